#include "med/runtime/meta.h"

#include <cmath>

namespace med::rt {

Affine identityAffine() {
  Affine a{};
  for (int i = 0; i < 4; ++i)
    a[i * 4 + i] = 1.0;
  return a;
}

Affine matmul(const Affine &a, const Affine &b) {
  Affine c{};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      double s = 0;
      for (int k = 0; k < 4; ++k)
        s += a[i * 4 + k] * b[k * 4 + j];
      c[i * 4 + j] = s;
    }
  return c;
}

double maxAbsDiff(const Affine &a, const Affine &b) {
  double m = 0;
  for (int i = 0; i < 16; ++i)
    m = std::fmax(m, std::fabs(a[i] - b[i]));
  return m;
}

} // namespace med::rt
