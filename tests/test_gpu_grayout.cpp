// The two backward passes the gray-out study added, on the GPU against the CPU: the decoder's backward
// from an image-space gradient (Cvae::decode_backward) and the judge's input gradient in evaluation mode
// (Judge::input_gradient). Both compose existing ops, so this checks the composition on the device.
#include <doctest/doctest.h>

#include "models/cvae.h"
#include "models/judge.h"
#include "tests/gpu_check.h"
#include "tests/temp_dir.h"

using namespace gpu_check;

TEST_CASE("gpu decode_backward matches the CPU (input and parameter gradients)") {
  Backend cpu_be = make_backend("cpu", 1), gpu_be = gpu();
  Cvae on_cpu(cpu_be, CvaeConfig{}, 7), on_gpu(gpu_be, CvaeConfig{}, 7);  // same seed: same weights on both
  std::mt19937 rng(601);
  const int rows = 37, in = 8 + 10;
  const Vec z = rand_vec(rng, rows * 8, -2, 2), c = rand_vec(rng, rows * 10, 0, 1), w = rand_vec(rng, rows * 784, -1, 1);

  Vec images(rows * 784), d_zc(rows * in);
  on_cpu.params().zero_grad(cpu_be);
  on_cpu.decode(cpu_be, z.data(), c.data(), rows, images.data());
  on_cpu.decode_backward(cpu_be, z.data(), images.data(), w.data(), rows, d_zc.data());
  const Vec grads(on_cpu.params().grads(), on_cpu.params().grads() + on_cpu.params().size());

  Buffer<float> dz = to_dev(gpu_be, z), dc = to_dev(gpu_be, c), dw = to_dev(gpu_be, w);
  Buffer<float> dimages = poisoned(gpu_be, images.size()), dzc = poisoned(gpu_be, d_zc.size());
  on_gpu.params().zero_grad(gpu_be);
  on_gpu.decode(gpu_be, dz.data(), dc.data(), rows, dimages.data());
  on_gpu.decode_backward(gpu_be, dz.data(), dimages.data(), dw.data(), rows, dzc.data());
  check_close(fetch(gpu_be, dimages, images.size()), images, "images");
  check_close(fetch(gpu_be, dzc, d_zc.size()), d_zc, "d[z|c]", 1e-3);
  Vec gpu_grads(grads.size());
  copy_out(gpu_be, gpu_grads.data(), on_gpu.params().grads(), gpu_grads.size() * sizeof(float));
  check_close(gpu_grads, grads, "parameter gradients", 1e-3);
}

TEST_CASE("gpu judge input_gradient matches the CPU (evaluation mode)") {
  Backend cpu_be = make_backend("cpu", 1), gpu_be = gpu();
  Judge on_cpu(cpu_be, 4);
  std::mt19937 rng(602);
  {  // a few steps so the running statistics are not their initial 0 / 1
    const Vec warm = rand_vec(rng, 16 * 784, 0, 1);
    std::vector<int> labels(16);
    for (int i = 0; i < 16; ++i) labels[i] = i % 10;
    for (int s = 0; s < 3; ++s) on_cpu.train_step(cpu_be, warm.data(), labels.data(), 16, 1e-3f, nullptr);
  }
  TempDir dir("gpu_grayout");
  on_cpu.save(cpu_be, dir / "judge.safetensors");
  Judge on_gpu(gpu_be, 99);
  on_gpu.load(gpu_be, dir / "judge.safetensors");

  const int rows = 19;
  const Vec x = rand_vec(rng, rows * 784, 0, 1);
  std::vector<int> labels(rows);
  for (int r = 0; r < rows; ++r) labels[r] = (3 * r) % 10;
  Vec dx(x.size());
  float loss = 0.0f;
  on_cpu.input_gradient(cpu_be, x.data(), labels.data(), rows, 0.5f, dx.data(), &loss);

  Buffer<float> dev_x = to_dev(gpu_be, x), dev_dx = poisoned(gpu_be, dx.size()), dev_loss = dev_scalar(gpu_be, 0.0f);
  Buffer<int> dev_labels = to_dev(gpu_be, labels);
  on_gpu.input_gradient(gpu_be, dev_x.data(), dev_labels.data(), rows, 0.5f, dev_dx.data(), dev_loss.data());
  check_close(fetch(gpu_be, dev_dx, dx.size()), dx, "image gradient", 1e-3);
  check_close(dev_loss.download(gpu_be)[0], loss, "loss sum", 1e-4);
}
