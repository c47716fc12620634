#include "crc_tables.h"

#include <cstring>

namespace aioring {
namespace checksum {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the slicing steps load words little-endian");

uint64_t loadLittle64(const uint8_t* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

// table[k][v] is the register after byte v and then k zero bytes, from a zero
// register, so eight bytes fold into eight independent look-ups.
template <typename Register>
struct SlicingTables {
  Register table[8][256];
};

template <typename Register>
SlicingTables<Register> reflectedTables(Register polynomial) {
  SlicingTables<Register> tables;
  for (uint32_t value = 0; value < 256; ++value) {
    Register reg = value;
    for (int bit = 0; bit < 8; ++bit) reg = (reg & 1) ? (reg >> 1) ^ polynomial : reg >> 1;
    tables.table[0][value] = reg;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t value = 0; value < 256; ++value) {
      Register previous = tables.table[k - 1][value];
      tables.table[k][value] = (previous >> 8) ^ tables.table[0][previous & 0xff];
    }
  }
  return tables;
}

SlicingTables<uint16_t> t10DifTables() {
  SlicingTables<uint16_t> tables;
  for (uint32_t value = 0; value < 256; ++value) {
    uint16_t reg = static_cast<uint16_t>(value << 8);
    for (int bit = 0; bit < 8; ++bit) {
      reg = (reg & 0x8000) ? static_cast<uint16_t>((reg << 1) ^ kT10DifPolynomial) : static_cast<uint16_t>(reg << 1);
    }
    tables.table[0][value] = reg;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t value = 0; value < 256; ++value) {
      uint16_t previous = tables.table[k - 1][value];
      tables.table[k][value] = static_cast<uint16_t>((previous << 8) ^ tables.table[0][previous >> 8]);
    }
  }
  return tables;
}

const SlicingTables<uint16_t>& crc16Tables() {
  static const SlicingTables<uint16_t> tables = t10DifTables();
  return tables;
}

const SlicingTables<uint32_t>& crc32cTables() {
  static const SlicingTables<uint32_t> tables = reflectedTables<uint32_t>(kCrc32CReflectedPolynomial);
  return tables;
}

const SlicingTables<uint64_t>& crc64Tables() {
  static const SlicingTables<uint64_t> tables = reflectedTables<uint64_t>(kCrc64NvmeReflectedPolynomial);
  return tables;
}

// For a least-significant-bit-first CRC the register lines up with the low
// bytes of the next little-endian word; byte j of that word, followed by 7 - j
// more bytes, contributes table[7 - j].
template <typename Register>
Register reflectedRegister(const SlicingTables<Register>& tables, Register reg, const uint8_t* data, size_t length) {
  const auto& t = tables.table;
  while (length >= 8) {
    uint64_t word = loadLittle64(data) ^ reg;
    reg = static_cast<Register>(t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^ t[5][(word >> 16) & 0xff] ^
                                t[4][(word >> 24) & 0xff] ^ t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
                                t[1][(word >> 48) & 0xff] ^ t[0][word >> 56]);
    data += 8;
    length -= 8;
  }
  while (length-- > 0) reg = static_cast<Register>((reg >> 8) ^ t[0][(reg ^ *data++) & 0xff]);
  return reg;
}

}  // namespace

uint16_t crc16TableRegister(uint16_t reg, const uint8_t* data, size_t length) {
  const auto& t = crc16Tables().table;
  while (length >= 8) {
    // Most significant bit first: the register lines up with the first two
    // bytes, which a big-endian load puts at the top of the word.
    uint64_t word = __builtin_bswap64(loadLittle64(data)) ^ (static_cast<uint64_t>(reg) << 48);
    reg = static_cast<uint16_t>(t[7][word >> 56] ^ t[6][(word >> 48) & 0xff] ^ t[5][(word >> 40) & 0xff] ^
                                t[4][(word >> 32) & 0xff] ^ t[3][(word >> 24) & 0xff] ^ t[2][(word >> 16) & 0xff] ^
                                t[1][(word >> 8) & 0xff] ^ t[0][word & 0xff]);
    data += 8;
    length -= 8;
  }
  while (length-- > 0) reg = static_cast<uint16_t>((reg << 8) ^ t[0][((reg >> 8) ^ *data++) & 0xff]);
  return reg;
}

uint32_t crc32cTableRegister(uint32_t reg, const uint8_t* data, size_t length) {
  return reflectedRegister<uint32_t>(crc32cTables(), reg, data, length);
}

uint64_t crc64TableRegister(uint64_t reg, const uint8_t* data, size_t length) {
  return reflectedRegister<uint64_t>(crc64Tables(), reg, data, length);
}

}  // namespace checksum
}  // namespace aioring
