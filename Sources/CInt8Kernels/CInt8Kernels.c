// Header-only target: every kernel is `static inline` in include/CInt8Kernels.h so that it inlines
// into the Swift callers. SwiftPM needs one source file to build the module.
#include "CInt8Kernels.h"
