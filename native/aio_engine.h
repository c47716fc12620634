// Linux AIO (the io_setup/io_submit interface libaio wraps) through raw syscalls.
#pragma once

#include <cstdint>
#include <memory>

#include "engine.h"

namespace aioring {

std::unique_ptr<Engine> createAioEngine(uint32_t depth, EngineRefusal* refusal);

}  // namespace aioring
