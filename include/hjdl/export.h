/* export.h — HJ_API marks the functions of libhjdl's public headers: the only
 * symbols libhjdl.so exports. The library compiles with hidden visibility
 * (CMakeLists.txt), so an internal function (hj__ or any other) is never part
 * of its ABI; tests/arch/exports.py checks that the exported symbols are
 * exactly the HJ_API declarations. The static library links every symbol as
 * usual: the tests that exercise internals link it. */
#ifndef HJDL_EXPORT_H
#define HJDL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define HJ_API __attribute__((visibility("default")))
#else
#define HJ_API
#endif

#endif /* HJDL_EXPORT_H */
