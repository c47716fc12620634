#include "crc_x86.h"

#if defined(__x86_64__)

#include <immintrin.h>

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

struct FoldPair {
  FoldConstants acrossLanes;  // from one chunk to the chunk kFoldBytes later
  FoldConstants acrossChunk;  // from one chunk to the next
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
  static const FoldPair pair = {t10DifFold(kFoldBytes * 8), t10DifFold(128)};
  return pair;
}

const FoldPair& crc64Constants() {
  static const FoldPair pair = {crc64Fold(kFoldBytes * 8), crc64Fold(128)};
  return pair;
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

// Folds all whole 16-byte chunks of data (at least kFoldBytes) into 16 bytes
// that stand for them, after `first` is added to the first chunk.
template <bool kByteReversed>
__attribute__((target("pclmul,ssse3"))) void foldToSixteen(const FoldPair& pair, __m128i first, const uint8_t*& data,
                                                              size_t& length, uint8_t out[16]) {
  const __m128i acrossLanes = _mm_set_epi64x(static_cast<long long>(pair.acrossLanes.high),
                                             static_cast<long long>(pair.acrossLanes.low));
  const __m128i acrossChunk = _mm_set_epi64x(static_cast<long long>(pair.acrossChunk.high),
                                             static_cast<long long>(pair.acrossChunk.low));
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
  while (remaining >= 16) {
    folded = _mm_xor_si128(fold(folded, acrossChunk), loadChunk<kByteReversed>(bytes));
    bytes += 16;
    remaining -= 16;
  }
  if (kByteReversed) {
    folded = _mm_shuffle_epi8(folded, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), folded);
  data = bytes;
  length = remaining;
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
