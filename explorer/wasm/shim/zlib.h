/* zlib.h — the WebAssembly build's stand-in for Debian's zlib (private to
 * explorer/wasm; Debian's emscripten ships no zlib port and the build stays
 * offline). crc32 is the real CRC-32 (IEEE 802.3, reflected 0xEDB88320), so
 * .hjm files written and checked in the page are the CLI's byte for byte;
 * inflate is refused (gzip'd IDX data sets and deflated .npz members
 * cannot be read in the page: hj_idx_read and the .npz reader report that
 * they cannot start zlib). */
#ifndef HJDL_WASM_ZLIB_SHIM_H
#define HJDL_WASM_ZLIB_SHIM_H
#include <stddef.h>

typedef unsigned char Bytef;
typedef unsigned int uInt;
typedef unsigned long uLong;
#define Z_NULL 0
#define Z_OK 0
#define Z_STREAM_END 1
#define Z_NO_FLUSH 0
#define Z_FINISH 4
#define MAX_WBITS 15
#define Z_STREAM_ERROR (-2)
#define Z_MEM_ERROR (-4)
#define Z_BUF_ERROR (-5)

typedef struct z_stream {
    const Bytef *next_in;
    uInt avail_in;
    Bytef *next_out;
    uInt avail_out;
    uLong total_in, total_out;
    const char *msg;
    void *zalloc, *zfree, *opaque;
} z_stream;

static inline uLong crc32(uLong crc, const Bytef *buf, uInt len)
{
    if (buf == NULL)
        return 0;
    unsigned long c = crc ^ 0xFFFFFFFFUL;
    for (uInt i = 0; i < len; i++) {
        c ^= buf[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320UL & (0UL - (c & 1UL)));
    }
    return c ^ 0xFFFFFFFFUL;
}
static inline int inflateInit2(z_stream *s, int bits) { (void)s, (void)bits; return Z_STREAM_ERROR; }
static inline int inflate(z_stream *s, int flush) { (void)s, (void)flush; return Z_STREAM_ERROR; }
static inline int inflateEnd(z_stream *s) { (void)s; return Z_OK; }
static inline int inflateReset(z_stream *s) { (void)s; return Z_STREAM_ERROR; }

#endif
