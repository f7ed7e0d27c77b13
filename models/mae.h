// The modified conv autoencoder (MAE) of the evidence-unlearning study (reference 002): a convolutional
// autoencoder for 28x28 MNIST plus an auxiliary Q layer that reads the code.
//   encoder  conv1  Conv2d 1->16 k3 s2 p1 (28->14), ReLU
//            conv2  Conv2d 16->32 k3 s2 p1 (14->7), ReLU, flatten 1568
//            enc    Linear 1568->code (no activation: the code)
//   decoder  dec    Linear code->1568, ReLU, viewed as 32 x 7 x 7
//            deconv1 ConvTranspose2d 32->16 k3 s2 p1 output_padding 1 (7->14), ReLU
//            deconv2 ConvTranspose2d 16->1  k3 s2 p1 output_padding 1 (14->28): pixel logits;
//            the reconstruction is their sigmoid
//   Q layer  q      Linear code->10: digit logits, the "evidence" of which digit a code holds
// (the layout of the usual PyTorch MNIST conv autoencoder: the decoder mirrors the encoder).
//
// Per image r, a gradient pass minimises
//   BCE(sigmoid(logits_r), target_r) summed over the 784 pixels  +  q_weight * Q term_r
// where the Q term is the cross-entropy with the image's label (learning) or the negative entropy
// sum_j p_j log p_j of Q's softmax (unlearning: maximal when Q cannot tell the digit), and the target is
// the image itself (learning) or any other picture (unlearning uses flat gray). The autoencoder and the Q
// layer keep separate ParamStores ("ae", "q") so a step can update one without the other.
#pragma once
#include <map>
#include <string>

#include "engine/buffer.h"
#include "engine/conv2d.h"
#include "engine/conv_transpose2d.h"
#include "engine/linear.h"

// Device scalars a gradient pass adds its losses to (each may be null), both scaled by the pass's `scale`
// but not by q_weight: recon = the BCE sum, q = the cross-entropy or negative-entropy sum.
struct MaeLosses {
  float* recon = nullptr;
  float* q = nullptr;
};

// What a gradient pass minimises (see the header comment).
struct MaeObjective {
  const float* recon_target = nullptr;  // rows x 784 on the device: the images (learning) or a featureless picture
  const int* labels = nullptr;          // rows labels on the device: Q cross-entropy; null: Q negative entropy
  float q_weight = 1.0f;                // 0 skips Q's backward (its loss is still reported)
};

class Mae {
 public:
  static constexpr int kSide = 28, kPixels = kSide * kSide, kClasses = 10;
  static constexpr int kC1 = 16, kC2 = 32, kS1 = 14, kS2 = 7, kFlat = kC2 * kS2 * kS2;

  Mae(const Backend& be, int code_dim, uint64_t init_seed);

  int code_dim() const { return code_; }

  // Forward + backward of the objective for x (rows x 784, pixels in [0,1], on the device), times scale:
  // ACCUMULATES into ae().grads() and q().grads() (the caller zeroes them) and adds the losses.
  void forward_backward(const Backend& be, const float* x, int rows, const MaeObjective& obj, float scale,
                        const MaeLosses& losses);
  // Evaluation for any n images, in chunks: pixel logits (n x 784) and Q logits (n x 10), each optional,
  // on the device. No gradients are touched.
  void outputs(const Backend& be, const float* x, int n, float* recon_logits, float* q_logits);
  // Reconstructions sigmoid(logits), n x 784 on the device.
  void reconstruct(const Backend& be, const float* x, int n, float* images);

  ParamStore& ae() { return ae_; }
  ParamStore& q() { return q_; }
  const ParamStore& ae() const { return ae_; }
  const ParamStore& q() const { return q_; }
  // Copies both parameter sets of another MAE of the same code size.
  void copy_from(const Backend& be, const Mae& other);

  // safetensors: both parameter sets (names "ae.enc.weight", "q.q.bias", ...), metadata model=mae,
  // code=<code size> plus meta; written atomically.
  void save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta = {}) const;
  // Throws std::runtime_error naming the file for another model's checkpoint or another code size.
  void load(const Backend& be, const std::string& path);

 private:
  static constexpr int kEvalChunk = 500;
  void reserve(const Backend& be, int rows, bool grads);
  void forward(const Backend& be, const float* x, int rows);

  int code_ = 0;
  ParamStore ae_, q_;
  Conv2d conv1_, conv2_;
  Linear enc_, dec_, head_;
  ConvTranspose2d deconv1_, deconv2_;

  int capacity_ = 0, grad_capacity_ = 0;
  // Forward activations (rows x ...): conv maps (ReLU'd), code, decoder hidden (ReLU'd), deconv1 map
  // (ReLU'd), pixel logits, Q logits.
  Buffer<float> a1_, a2_, code_buf_, h_, d1_, logits_, qlogits_;
  // Their gradients (dcode_q_: the Q layer's share of the code gradient).
  Buffer<float> dlogits_, dqlogits_, dd1_, dh_, dcode_, dcode_q_, da2_, da1_;
};
