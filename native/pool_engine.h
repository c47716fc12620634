// The portable engine: a few worker threads of the addon's own doing positional
// syscalls. Used where neither kernel interface can run, and for buffered files,
// whose Linux AIO submissions would otherwise block the event loop.
#pragma once

#include <cstdint>
#include <memory>

#include "engine.h"

namespace aioring {

std::unique_ptr<Engine> createPoolEngine(uint32_t depth, EngineRefusal* refusal);

}  // namespace aioring
