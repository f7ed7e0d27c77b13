// The Selective Amnesia MNIST judge: the classifier that audits generated digits (official code,
// vae/model.py `Classifier`):
//   conv1 1->10 k5 (28->24), bn1, max-pool 2 (->12), ReLU
//   conv2 10->20 k5 (12->8), bn2, channel dropout 0.5 (Dropout2d), max-pool 2 (->4), ReLU
//   flatten 320, fc1 320->50, ReLU, dropout 0.5, fc2 50->classes logits
// with 10 classes (the paper's judge) or 11, the last being "no digit" (the forgetting audit's judge:
// a featureless image has somewhere to go other than the digit a 10-way judge mistakes it for);
// trained with the mean cross-entropy (the official log_softmax + nll_loss). Parameter and statistics
// names match the PyTorch state_dict (conv1.weight, bn1.running_mean, ...).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/adam.h"
#include "engine/batchnorm.h"
#include "engine/buffer.h"
#include "engine/conv2d.h"
#include "engine/idx.h"
#include "engine/linear.h"

class Judge {
 public:
  static constexpr int kSide = 28, kPixels = kSide * kSide, kDigits = 10, kNoDigit = 10;
  static constexpr float kDropout = 0.5f;

  // classes: kDigits, or kDigits + 1 for a judge with the "no digit" outcome (class kNoDigit).
  Judge(const Backend& be, uint64_t init_seed, int classes = kDigits);
  // The class count a judge checkpoint records (10 when it records none: judges saved before the
  // count was a parameter), so a loader can build the right network before load().
  static int classes_in(const std::string& path);
  int classes() const { return classes_; }
  // The rate of both dropout layers in training (kDropout unless set; evaluation never drops). The
  // 11-way judge trains with less: its weakened digits and featureless images already regularise it.
  void set_dropout(float rate);
  float dropout() const { return dropout_; }

  // One optimisation step on a batch: training-mode forward (batch statistics, dropout masks drawn from
  // be's counter-based generator), mean cross-entropy, backward, then Adam (PyTorch defaults, no weight
  // decay) with learning rate lr. x: rows x 784 pixels in [0,1] and labels: rows ints, both on the device.
  // Adds the batch's mean loss to *loss_sum (device scalar) when not null.
  void train_step(Backend& be, const float* x, const int* labels, int rows, float lr, float* loss_sum);
  // The forward + backward of train_step without the update: ACCUMULATES scale * d(sum of per-image
  // cross-entropies) into params().grads() (the caller zeroes them) and adds scale * the summed loss
  // to *loss_sum when not null.
  void forward_backward(Backend& be, const float* x, const int* labels, int rows, float scale, float* loss_sum);

  // For attacks on a frozen judge: an evaluation-mode pass (running statistics, no dropout) over x, then the
  // gradient of scale * sum_r CE(logits_r, labels_r) w.r.t. the images written into dx (rows x 784, on the
  // device). Adds scale * the summed loss to *loss_sum when not null. The backward is the training one, so
  // params().grads() take some of it too: scratch for a frozen judge, which never steps.
  void input_gradient(Backend& be, const float* x, const int* labels, int rows, float scale, float* dx,
                      float* loss_sum);

  // Evaluation mode (running statistics, no dropout) for any number of images, processed in chunks.
  // x: n x 784 on the device; out: n x classes() on the device.
  void logits(const Backend& be, const float* x, int n, float* out);
  void probabilities(const Backend& be, const float* x, int n, float* out);

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  int adam_steps() const { return adam_.steps_taken(); }

  // safetensors with metadata model=judge and classes (plus `meta`); running statistics included.
  void save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta = {}) const;
  // Throws std::runtime_error naming the file when it is not a judge checkpoint or a tensor is missing
  // or misshapen. Adam state is not saved: a loaded judge is for evaluation (or a fresh fine-tune).
  void load(const Backend& be, const std::string& path);

 private:
  static constexpr int kEvalChunk = 256;
  void reserve(const Backend& be, int rows, bool grads);
  // training: batch statistics + dropout (draws from be's generator); otherwise eval mode (draws nothing).
  void forward(Backend& be, const float* x, int rows, bool training);
  // From dlogits_ back to the images, through the forward just run in the same mode; dx may be null.
  void backward(Backend& be, const float* x, int rows, bool training, float* dx);
  // Batch-norm's input gradient: the training backward, or in evaluation mode the per-channel scale.
  void bn_backward(const Backend& be, const BatchNorm& bn, bool training, const float* x, const float* dy, int rows,
                   int hw, float* dx) const;

  int classes_;
  float dropout_ = kDropout;
  ParamStore params_;
  Conv2d conv1_, conv2_;
  BatchNorm bn1_, bn2_;
  Linear fc1_, fc2_;
  Adam adam_;
  Buffer<float> zeros_;  // kC2 zeros: the shift-free evaluation batch norm that bn_backward applies to dy

  int capacity_ = 0, grad_capacity_ = 0;
  // Forward activations (rows x ...): conv outputs, batch-norm outputs, pooled (+ReLU) maps, fc1 output
  // before and after dropout, logits; max-pool winners and dropout multipliers for the backward.
  Buffer<float> c1_, b1_, a1_, c2_, b2_, a2_, f1_, f1d_, logits_, mask2_, mask1_;
  Buffer<int> arg1_, arg2_;
  // Their gradients.
  Buffer<float> dlogits_, df1d_, da2_, db2_, dc2_, da1_, db1_, dc1_;
};

// Host n x judge.classes() class probabilities of the judge (eval mode) for n images already on be's device
// (n x 784, pixels in [0,1]). For audits of generated samples.
std::vector<float> judge_probabilities(Backend& be, Judge& judge, const float* images_dev, int n);
// Fraction of d's images whose most probable class is their label.
double judge_accuracy(Backend& be, Judge& judge, const Dataset& d);
