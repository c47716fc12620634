#include "crc_x86.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

#include "crc_tables.h"

namespace aioring {
namespace checksum {
namespace {

uint64_t loadLittle64(const uint8_t* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

// ---- CRC-32C: three independent crc32 streams, joined afterwards ----------
//
// One crc32 instruction has a latency of three cycles but can start every
// cycle, so three streams over three adjacent blocks keep it busy. The
// register of block A must then be carried across the bytes of B (and of C):
// that is the register after that many zero bytes, which is linear in the
// register, so it is four table look-ups by the register's bytes.

constexpr size_t kLongBlock = 4096;
constexpr size_t kShortBlock = 256;

struct ZeroBytesShift {
  uint32_t table[4][256];
};

ZeroBytesShift makeZeroBytesShift(size_t bytes) {
  static const uint8_t zeros[kLongBlock] = {};
  uint32_t basis[32];
  for (int bit = 0; bit < 32; ++bit) basis[bit] = crc32cTableRegister(1u << bit, zeros, bytes);
  ZeroBytesShift shift;
  for (int byte = 0; byte < 4; ++byte) {
    for (uint32_t value = 0; value < 256; ++value) {
      uint32_t image = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if ((value >> bit) & 1) image ^= basis[8 * byte + bit];
      }
      shift.table[byte][value] = image;
    }
  }
  return shift;
}

uint32_t shiftAcross(const ZeroBytesShift& shift, uint32_t reg) {
  return shift.table[0][reg & 0xff] ^ shift.table[1][(reg >> 8) & 0xff] ^ shift.table[2][(reg >> 16) & 0xff] ^
         shift.table[3][reg >> 24];
}

template <size_t kBlock>
__attribute__((target("sse4.2"))) uint32_t threeStreams(const ZeroBytesShift& shift, uint32_t reg,
                                                         const uint8_t*& data, size_t& length) {
  while (length >= 3 * kBlock) {
    uint64_t a = reg;
    uint64_t b = 0;
    uint64_t c = 0;
    for (size_t offset = 0; offset < kBlock; offset += 8) {
      a = _mm_crc32_u64(a, loadLittle64(data + offset));
      b = _mm_crc32_u64(b, loadLittle64(data + kBlock + offset));
      c = _mm_crc32_u64(c, loadLittle64(data + 2 * kBlock + offset));
    }
    reg = shiftAcross(shift, shiftAcross(shift, static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^
          static_cast<uint32_t>(c);
    data += 3 * kBlock;
    length -= 3 * kBlock;
  }
  return reg;
}

__attribute__((target("sse4.2"))) uint32_t oneStream(uint32_t reg, const uint8_t* data, size_t length) {
  uint64_t wide = reg;
  for (; length >= 8; data += 8, length -= 8) wide = _mm_crc32_u64(wide, loadLittle64(data));
  uint32_t narrow = static_cast<uint32_t>(wide);
  for (; length > 0; ++data, --length) narrow = _mm_crc32_u8(narrow, *data);
  return narrow;
}

// ---- Carry-less multiply folding ------------------------------------------
//
// A 128-bit chunk p = H x^64 + L of the message, followed by D more bits,
// contributes p x^D, which is congruent (mod the polynomial P) to
// H (x^(D+64) mod P) + L (x^D mod P): two 64x64 carry-less products of at
// most 127 bits, which can be added into the chunk D bits later. Eight
// chunks are carried 1024 bits at a time, then folded into one; the final 16
// bytes stand for everything before them and go through the tables with the
// tail. The constants are computed here from the polynomials.
//
// For the least-significant-bit-first CRC-64, little-endian loads give each
// chunk bit-reversed, and the product of two bit-reversed 64-bit values is
// the bit-reversed 128-bit product shifted by one place; so its constants are
// bit-reversed and one power of x lower.

constexpr size_t kLanes = 8;
constexpr size_t kFoldBytes = kLanes * 16;

struct FoldConstants {
  uint64_t high;  // multiplies the chunk's high 64-bit half
  uint64_t low;   // multiplies the low half
};

// With VPCLMULQDQ and AVX-512, four 512-bit registers of four chunks each are
// carried 256 bytes at a time instead.
constexpr size_t kWideLanes = 4;
constexpr size_t kWideBytes = kWideLanes * 64;

struct FoldPair {
  FoldConstants acrossLanes;     // from one chunk to the chunk kFoldBytes later
  FoldConstants acrossChunk;     // from one chunk to the next
  FoldConstants acrossWide;      // from one chunk to the chunk kWideBytes later
  FoldConstants acrossRegister;  // from one chunk to the chunk 64 bytes later
};

// x^n mod P, for a P of the given width written without its leading term.
uint64_t powerOfXMod(unsigned n, unsigned width, uint64_t polynomial) {
  const uint64_t top = uint64_t{1} << (width - 1);
  const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  uint64_t remainder = 1;
  for (unsigned i = 0; i < n; ++i) {
    bool carry = (remainder & top) != 0;
    remainder = (remainder << 1) & mask;
    if (carry) remainder ^= polynomial;
  }
  return remainder;
}

uint64_t reverse64(uint64_t value) {
  uint64_t reversed = 0;
  for (int bit = 0; bit < 64; ++bit) reversed |= ((value >> bit) & 1) << (63 - bit);
  return reversed;
}

FoldConstants t10DifFold(unsigned distanceBits) {
  return {powerOfXMod(distanceBits + 64, 16, kT10DifPolynomial), powerOfXMod(distanceBits, 16, kT10DifPolynomial)};
}

FoldConstants crc64Fold(unsigned distanceBits) {
  const uint64_t polynomial = reverse64(kCrc64NvmeReflectedPolynomial);
  // Loaded little-endian, the chunk's first 8 bytes (the high-order half of
  // the polynomial) sit in the low 64 bits of the register.
  return {reverse64(powerOfXMod(distanceBits - 1, 64, polynomial)),
          reverse64(powerOfXMod(distanceBits + 63, 64, polynomial))};
}

const FoldPair& t10DifConstants() {
  static const FoldPair pair = {t10DifFold(kFoldBytes * 8), t10DifFold(128), t10DifFold(kWideBytes * 8), t10DifFold(512)};
  return pair;
}

const FoldPair& crc64Constants() {
  static const FoldPair pair = {crc64Fold(kFoldBytes * 8), crc64Fold(128), crc64Fold(kWideBytes * 8), crc64Fold(512)};
  return pair;
}

// AIORING_CRC_NO_AVX512 (set when the addon loads) keeps the 128-bit path, so
// tests can cover it on CPUs that have the wide one.
bool wideFoldingAvailable() {
  static const bool available = __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512f") &&
                                __builtin_cpu_supports("avx512bw") && std::getenv("AIORING_CRC_NO_AVX512") == nullptr;
  return available;
}

__attribute__((target("pclmul,sse2"))) inline __m128i fold(__m128i chunk, __m128i constants) {
  return _mm_xor_si128(_mm_clmulepi64_si128(chunk, constants, 0x11), _mm_clmulepi64_si128(chunk, constants, 0x00));
}

// Loads 16 message bytes as a 128-bit polynomial; `ByteReversed` puts the
// first byte at the top, for the most-significant-bit-first CRC.
template <bool kByteReversed>
__attribute__((target("pclmul,ssse3"))) inline __m128i loadChunk(const uint8_t* bytes) {
  __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  if (kByteReversed) chunk = _mm_shuffle_epi8(chunk, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  return chunk;
}

__attribute__((target("pclmul,sse2"))) inline __m128i constantsOf(const FoldConstants& constants) {
  return _mm_set_epi64x(static_cast<long long>(constants.high), static_cast<long long>(constants.low));
}

// Folds whole 128-byte blocks of data (at least one) into one chunk, after
// `first` is added to the first chunk; advances data and length past them.
template <bool kByteReversed>
__attribute__((target("pclmul,ssse3"))) __m128i foldLanes(const FoldPair& pair, __m128i first, const uint8_t*& data,
                                                             size_t& length) {
  const __m128i acrossLanes = constantsOf(pair.acrossLanes);
  const __m128i acrossChunk = constantsOf(pair.acrossChunk);
  // Locals, not the references, so the lanes stay in registers across the loop.
  const uint8_t* bytes = data;
  size_t remaining = length;
  __m128i lane[kLanes];
#pragma GCC unroll 8
  for (size_t i = 0; i < kLanes; ++i) lane[i] = loadChunk<kByteReversed>(bytes + 16 * i);
  lane[0] = _mm_xor_si128(lane[0], first);
  bytes += kFoldBytes;
  remaining -= kFoldBytes;
  while (remaining >= kFoldBytes) {
#pragma GCC unroll 8
    for (size_t i = 0; i < kLanes; ++i) {
      lane[i] = _mm_xor_si128(fold(lane[i], acrossLanes), loadChunk<kByteReversed>(bytes + 16 * i));
    }
    bytes += kFoldBytes;
    remaining -= kFoldBytes;
  }
  __m128i folded = lane[0];
#pragma GCC unroll 8
  for (size_t i = 1; i < kLanes; ++i) folded = _mm_xor_si128(fold(folded, acrossChunk), lane[i]);
  data = bytes;
  length = remaining;
  return folded;
}

#define AIORING_WIDE_TARGET __attribute__((target("vpclmulqdq,avx512f,avx512bw,pclmul,ssse3")))

// The same 128-bit value in all four places of a 512-bit register.
AIORING_WIDE_TARGET inline __m512i repeatFour(uint64_t high, uint64_t low) {
  const uint64_t words[8] = {low, high, low, high, low, high, low, high};
  return _mm512_loadu_si512(words);
}

template <bool kByteReversed>
AIORING_WIDE_TARGET inline __m512i loadWide(const uint8_t* bytes, __m512i reverse) {
  const __m512i chunks = _mm512_loadu_si512(bytes);
  // Byte shuffles stay within each 128-bit chunk, which is what reversing each chunk needs.
  return kByteReversed ? _mm512_shuffle_epi8(chunks, reverse) : chunks;
}

// Four chunk folds at once, and the chunks they are added to.
AIORING_WIDE_TARGET inline __m512i foldWide(__m512i chunks, __m512i constants, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(chunks, constants, 0x11),
                                   _mm512_clmulepi64_epi128(chunks, constants, 0x00), next, 0x96);
}

// As foldLanes, over whole 256-byte blocks (at least one).
template <bool kByteReversed>
AIORING_WIDE_TARGET __m128i foldWideLanes(const FoldPair& pair, __m128i first, const uint8_t*& data, size_t& length) {
  const __m512i acrossWide = repeatFour(pair.acrossWide.high, pair.acrossWide.low);
  const __m512i acrossRegister = repeatFour(pair.acrossRegister.high, pair.acrossRegister.low);
  // Each chunk's bytes in reverse order: byte i of a chunk takes byte 15 - i.
  const __m512i reverse = repeatFour(0x0001020304050607ull, 0x08090a0b0c0d0e0full);
  const __m128i acrossChunk = constantsOf(pair.acrossChunk);
  const uint8_t* bytes = data;
  size_t remaining = length;
  __m512i lane[kWideLanes];
#pragma GCC unroll 4
  for (size_t i = 0; i < kWideLanes; ++i) lane[i] = loadWide<kByteReversed>(bytes + 64 * i, reverse);
  lane[0] = _mm512_xor_si512(lane[0], _mm512_zextsi128_si512(first));
  bytes += kWideBytes;
  remaining -= kWideBytes;
  while (remaining >= kWideBytes) {
#pragma GCC unroll 4
    for (size_t i = 0; i < kWideLanes; ++i) lane[i] = foldWide(lane[i], acrossWide, loadWide<kByteReversed>(bytes + 64 * i, reverse));
    bytes += kWideBytes;
    remaining -= kWideBytes;
  }
  __m512i all = lane[0];
#pragma GCC unroll 4
  for (size_t i = 1; i < kWideLanes; ++i) all = foldWide(all, acrossRegister, lane[i]);
  uint8_t chunks[64];
  _mm512_storeu_si512(chunks, all);
  __m128i folded = _mm_loadu_si128(reinterpret_cast<const __m128i*>(chunks));
  for (size_t i = 1; i < 4; ++i) {
    folded = _mm_xor_si128(fold(folded, acrossChunk), _mm_loadu_si128(reinterpret_cast<const __m128i*>(chunks + 16 * i)));
  }
  data = bytes;
  length = remaining;
  return folded;
}

// Folds the remaining whole 16-byte chunks into `folded` and stores the 16
// bytes that stand for everything so far, in message byte order.
template <bool kByteReversed>
__attribute__((target("pclmul,ssse3"))) void finishFold(const FoldPair& pair, __m128i folded, const uint8_t*& data,
                                                          size_t& length, uint8_t out[16]) {
  const __m128i acrossChunk = constantsOf(pair.acrossChunk);
  while (length >= 16) {
    folded = _mm_xor_si128(fold(folded, acrossChunk), loadChunk<kByteReversed>(data));
    data += 16;
    length -= 16;
  }
  if (kByteReversed) {
    folded = _mm_shuffle_epi8(folded, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), folded);
}

// All whole 16-byte chunks of data (at least kFoldBytes), `first` added to the
// first, folded into the 16 bytes at `out`.
template <bool kByteReversed>
void foldToSixteen(const FoldPair& pair, __m128i first, const uint8_t*& data, size_t& length, uint8_t out[16]) {
  const __m128i folded = length >= kWideBytes && wideFoldingAvailable()
                             ? foldWideLanes<kByteReversed>(pair, first, data, length)
                             : foldLanes<kByteReversed>(pair, first, data, length);
  finishFold<kByteReversed>(pair, folded, data, length, out);
}

}  // namespace

uint32_t crc32cInstructionRegister(uint32_t reg, const uint8_t* data, size_t length) {
  static const ZeroBytesShift longShift = makeZeroBytesShift(kLongBlock);
  static const ZeroBytesShift shortShift = makeZeroBytesShift(kShortBlock);
  reg = threeStreams<kLongBlock>(longShift, reg, data, length);
  reg = threeStreams<kShortBlock>(shortShift, reg, data, length);
  return oneStream(reg, data, length);
}

uint16_t crc16ClmulRegister(uint16_t reg, const uint8_t* data, size_t length) {
  if (length < kFoldBytes) return crc16TableRegister(reg, data, length);
  uint8_t folded[16];
  // Most significant bit first: the register lines up with the top 16 bits.
  foldToSixteen<true>(t10DifConstants(), _mm_set_epi64x(static_cast<long long>(uint64_t{reg} << 48), 0), data, length,
                      folded);
  return crc16TableRegister(crc16TableRegister(0, folded, sizeof folded), data, length);
}

uint64_t crc64ClmulRegister(uint64_t reg, const uint8_t* data, size_t length) {
  if (length < kFoldBytes) return crc64TableRegister(reg, data, length);
  uint8_t folded[16];
  foldToSixteen<false>(crc64Constants(), _mm_set_epi64x(0, static_cast<long long>(reg)), data, length, folded);
  return crc64TableRegister(crc64TableRegister(0, folded, sizeof folded), data, length);
}

}  // namespace checksum
}  // namespace aioring

#endif
