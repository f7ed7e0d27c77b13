// Batch normalisation over the channels of an N x C x HW tensor (NCHW images, or N x C features with
// HW = 1), PyTorch semantics: training normalises with the batch statistics (biased variance) and
// moves the running statistics by `momentum` toward the batch mean and the UNBIASED batch variance;
// evaluation normalises with the running statistics.
#pragma once
#include "engine/backend.h"

namespace cpu {
void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var);
void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y);
void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta);
}
namespace cuda {
void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var);
void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y);
void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta);
}

// Training forward. Per channel over its M = n*hw values: mean, var (biased), invstd = 1/sqrt(var + eps);
// y = (x - mean) * invstd * gamma + beta. save_mean / save_invstd [c] keep the statistics for the backward.
// When running_mean / running_var are not null: running = (1 - momentum) * running + momentum * batch,
// with the variance taken unbiased (var * M / (M - 1)).
inline void batchnorm_fwd_train(const Backend& be, const float* x, const float* gamma, const float* beta, int n, int c,
                                int hw, float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                float* running_mean, float* running_var) {
  AMNESIA_DISPATCH(be, batchnorm_fwd_train, x, gamma, beta, n, c, hw, eps, momentum, y, save_mean, save_invstd,
                   running_mean, running_var);
}
// Evaluation forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
inline void batchnorm_fwd_eval(const Backend& be, const float* x, const float* gamma, const float* beta,
                               const float* running_mean, const float* running_var, int n, int c, int hw, float eps,
                               float* y) {
  AMNESIA_DISPATCH(be, batchnorm_fwd_eval, x, gamma, beta, running_mean, running_var, n, c, hw, eps, y);
}
// Backward of the training forward (batch statistics depend on x, so every dx sees the whole channel):
//   xhat = (x - mean) * invstd,  dbeta += sum dy,  dgamma += sum dy * xhat   (accumulated),
//   dx = gamma * invstd / M * (M dy - sum dy - xhat * sum dy xhat)          (overwritten).
// dx, dgamma and dbeta may each be null.
inline void batchnorm_bwd(const Backend& be, const float* x, const float* dy, const float* gamma,
                          const float* save_mean, const float* save_invstd, int n, int c, int hw, float* dx,
                          float* dgamma, float* dbeta) {
  AMNESIA_DISPATCH(be, batchnorm_bwd, x, dy, gamma, save_mean, save_invstd, n, c, hw, dx, dgamma, dbeta);
}
