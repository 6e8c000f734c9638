// Internal to the runtime: whether this CPU runs the microkernels' AVX-512 builds (compiled in
// only on x86-64, where MED_UK_HAVE_AVX512 is defined). Included by the portable dispatchers
// only, never by an AVX-512 translation unit.
#pragma once

namespace med::ukernel {

inline bool hasAvx512() {
#if MED_UK_HAVE_AVX512
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return yes;
#else
  return false;
#endif
}

} // namespace med::ukernel
