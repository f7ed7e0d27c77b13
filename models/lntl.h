// The three networks of "Learning Not to Learn" on Colored MNIST (official code feidfoe/learning-not-to-learn,
// DESIGN.md s. 8), each with its own flat ParamStore so each gets its own one-pass SGD update:
//   f (features):  BN(3) -> conv5x5 3->32 pad 2 -> ReLU -> maxpool 3x3 s2 pad 1 (28->14) -> conv3x3 32->32 pad 1 -> ReLU
//   g (digit):     conv3x3 32->64 s2 pad 1 (14->7) -> ReLU -> conv3x3 64->64 pad 1 -> ReLU -> avgpool 7 -> linear 64->10
//   h (colour):    per RGB channel: conv3x3 32->32 pad 1 -> BN -> ReLU -> conv3x3 32->8 pad 1, i.e. 8 colour
//                  bins for every pixel of the 14x14 feature map.
// Baseline = f+g on the cross-entropy. LNTL alternates, each batch,
//   (1) f, g step on  CE + lambda * mean over heads and pixels of sum_j p log p  (h's negative entropy:
//       the features must leave h unsure of the colour);
//   (2) h, f step on  h's colour cross-entropy summed over the 3 heads, the gradient reaching f
//       multiplied by -mu (gradient reversal: h learns to read colour from the features while f
//       learns to hide it).
// As in the official code, f's and g's conv weights start He-initialised, the rest PyTorch's default.
// Parameter names carry the net as prefix ("f.conv1.weight", "h.r.bn.running_mean", ...).
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "engine/batchnorm.h"
#include "engine/conv2d.h"
#include "engine/input_bn_conv.h"
#include "engine/linear.h"
#include "engine/ops/sgd.h"
#include "models/colored_mnist.h"

// The game's knobs; the defaults are the official code's.
struct LntlGame {
  float lambda = 0.01f;     // weight of h's negative entropy in step (1)
  float mu = 0.1f;          // gradient reversal: f receives -mu x h's colour gradient in step (2)
  float h_lr_scale = 1.0f;  // h's learning rate as a multiple of f's and g's (official: 1, one lr for all)
  // In step (2) g also takes an SGD step on its zero gradient (momentum and weight decay alone), as it
  // does in the official code, whose one optimiser over f and g steps after h's colour loss too.
  bool g_in_colour_step = false;
};

// Device scalars the training steps add their batch losses to.
struct LntlLosses {
  float* ce = nullptr;           // digit cross-entropy (mean over the batch)
  float* neg_entropy = nullptr;  // h's mean negative entropy, averaged over the 3 heads (not times lambda)
  float* colour_ce = nullptr;    // h's colour cross-entropy, summed over the 3 heads (the official loss)
};

class LntlNets {
 public:
  static constexpr int kFeat = 32, kMap = 14, kMapPixels = kMap * kMap, kWide = 64, kSmall = 7, kClasses = 10;
  static constexpr int kHeads = ColoredMnist::kChannels;  // h: one colour head per RGB channel

  LntlNets(const Backend& be, uint64_t init_seed);

  // Baseline: one SGD step of f and g on the mean cross-entropy.
  void baseline_step(Backend& be, const float* x, const int* labels, int n, const SgdHyper& opt,
                     const LntlLosses& losses);
  // LNTL: steps (1) and (2) on one batch. bins: 3 x n x 196 colour-bin labels (gather_batch's layout),
  // valid: the labelled pixels per channel (gather_batch's counts). opt is f's and g's; h's differs
  // only in its lr (game.h_lr_scale x opt.lr).
  void lntl_step(Backend& be, const float* x, const int* labels, const int* bins, const ColourBinCounts& valid, int n,
                 const SgdHyper& opt, const LntlGame& game, const LntlLosses& losses);

  // The gradient passes the steps are made of (training mode; they ACCUMULATE into the grads, which the
  // caller zeroes). digit_forward_backward: CE (+ lambda * h's negative entropy when lambda != 0) into
  // f's and g's grads (h's parameter grads are not computed: step (1) does not move h). colour_forward_backward: h's colour CE into h's grads,
  // and feat_grad_scale times its gradient w.r.t. the features on into f's (-mu = gradient reversal).
  void digit_forward_backward(Backend& be, const float* x, const int* labels, int n, float lambda,
                              const LntlLosses& losses);
  void colour_forward_backward(Backend& be, const float* x, const int* bins, const ColourBinCounts& valid, int n, float feat_grad_scale,
                               const LntlLosses& losses);

  // Evaluation mode (running statistics) digit logits for any n, in chunks: x n x 3 x 28 x 28, out n x 10.
  void logits(const Backend& be, const float* x, int n, float* out);

  ParamStore& f() { return f_; }
  ParamStore& g() { return g_; }
  ParamStore& h() { return h_; }

  // safetensors (metadata model=lntl plus meta) with f, g and their BN statistics; h too when with_h. The
  // nets' SGD momentum rides along ("momentum.<parameter name>"), so a run can continue exactly.
  void save(const Backend& be, const std::string& path, bool with_h,
            const std::map<std::string, std::string>& meta = {}) const;
  // Loads f and g (and h when with_h) and their statistics; throws naming the file on a wrong model.
  void load(const Backend& be, const std::string& path, bool with_h);
  // Loads the momentum save() wrote beside the weights (f and g, h when with_h); throws naming the file
  // when it has none (checkpoints written before 2026-12-01 15:00).
  void load_momentum(const Backend& be, const std::string& path, bool with_h);

 private:
  static constexpr int kEvalChunk = 500;
  static inline const std::string kMomentumPrefix = "momentum.";

  void reserve(const Backend& be, int n);
  void forward_f(const Backend& be, const float* x, int n, bool training);
  // dfeat_ (gradient w.r.t. f's output) -> f's parameter grads; dfeat_ is consumed.
  void backward_f(const Backend& be, const float* x, int n);
  void forward_g(const Backend& be, int n);
  // dlogits_ -> g's grads; OVERWRITES dfeat_ with the gradient w.r.t. the features.
  void backward_g(const Backend& be, int n);
  // The three heads' forward to channels-last logits rows_ (3 x n*196 x 8, head after head).
  void forward_heads(const Backend& be, int n);
  // drows_ -> the heads' backward; ADDS feat_grad_scale * d/dfeat to dfeat_; into h's grads only when
  // head_grads.
  void backward_heads(const Backend& be, int n, float feat_grad_scale, bool head_grads);
  void sgd(const Backend& be, ParamStore& p, Buffer<float>& momentum, const SgdHyper& opt);

  ParamStore f_, g_, h_;
  BatchNorm bn_in_;
  Conv2d conv1_, conv2_, conv3_, conv4_;
  InputBnConvGrads input_grads_;  // bn_in_'s and conv1_'s gradients without conv1_'s data gradient
  Linear fc_;
  // h: the three heads' first convolutions read the same features, so they run as ONE 32->96 convolution
  // (one im2col, a 3x taller GEMM) and their batch norms as one 96-channel layer, over parameters
  // reserved head by head under the heads' own names ("h.r.conv1.weight", ...). The second convolutions
  // read different channels and stay one per head.
  Conv2d heads_conv1_;
  BatchNorm heads_bn_;
  std::array<Conv2d, kHeads> heads_conv2_;
  // One momentum buffer per net: f keeps one for both LNTL steps, as the official code steps f with one
  // optimiser whichever loss it is on.
  Buffer<float> mom_f_, mom_g_, mom_h_;

  int capacity_ = 0;
  // f: normalised input, conv1 map (ReLU'd), pool winners, pooled map, features (ReLU'd).
  Buffer<float> xb_, c1_, p1_, feat_;
  Buffer<int> arg1_;
  // g: conv3 and conv4 maps (ReLU'd), pooled 64-vectors, logits.
  Buffer<float> c3_, c4_, pooled_, logits_;
  // h: conv1 maps (n x 96 x 196), BN+ReLU maps, the same head-major (3 x n x 32 x 196: each head's
  // input contiguous), one head's bin logits NCHW, all heads' channels-last logits.
  Buffer<float> ha_, hb_, hb_heads_, ho_, rows_;
  // Gradients.
  Buffer<float> dfeat_, dp1_, dc1_, dlogits_, dpooled_, dc4_, dc3_, drows_, dho_, dhb_heads_, dhb_, dha_,
      dfeat_head_;
};

// The predicted digit of every image of d (evaluation mode).
std::vector<int> predict_digits(const Backend& be, LntlNets& nets, const ColoredMnist& d);
