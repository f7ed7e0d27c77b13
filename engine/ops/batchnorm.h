// Batch normalisation over the channels of an N x C x HW tensor (NCHW images, or N x C features with
// HW = 1), PyTorch semantics: training normalises with the batch statistics (biased variance) and
// moves the running statistics by `momentum` toward the batch mean and the UNBIASED batch variance;
// evaluation normalises with the running statistics.
#pragma once
#include "engine/backend.h"

// Training forward. Per channel over its M = n*hw values: mean, var (biased), invstd = 1/sqrt(var + eps);
// y = (x - mean) * invstd * gamma + beta. save_mean / save_invstd [c] keep the statistics for the backward.
// When running_mean / running_var are not null: running = (1 - momentum) * running + momentum * batch,
// with the variance taken unbiased (var * M / (M - 1)).
AMNESIA_OP(batchnorm_fwd_train, const float* x, const float* gamma, const float* beta, int n, int c, int hw,
           float eps, float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
           float* running_var)
// Evaluation forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
AMNESIA_OP(batchnorm_fwd_eval, const float* x, const float* gamma, const float* beta, const float* running_mean,
           const float* running_var, int n, int c, int hw, float eps, float* y)
// Backward of the training forward (batch statistics depend on x, so every dx sees the whole channel):
//   xhat = (x - mean) * invstd,  dbeta += sum dy,  dgamma += sum dy * xhat   (accumulated),
//   dx = gamma * invstd / M * (M dy - sum dy - xhat * sum dy xhat)          (overwritten).
// dx, dgamma and dbeta may each be null.
AMNESIA_OP(batchnorm_bwd, const float* x, const float* dy, const float* gamma, const float* save_mean,
           const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta)
