#include "probe.h"

#include "aio_engine.h"
#include "pool_engine.h"
#include "uring_engine.h"

namespace aioring {

bool parseEngineKind(const std::string& name, EngineKind* kind) {
  if (name == "libaio") {
    *kind = EngineKind::kLibaio;
  } else if (name == "io_uring") {
    *kind = EngineKind::kIoUring;
  } else if (name == "threadpool") {
    *kind = EngineKind::kThreadPool;
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<Engine> createEngine(EngineKind kind, uint32_t depth, EngineRefusal* refusal) {
  switch (kind) {
    case EngineKind::kLibaio: return createAioEngine(depth, refusal);
    case EngineKind::kIoUring: return createUringEngine(depth, refusal);
    case EngineKind::kThreadPool: return createPoolEngine(depth, refusal);
  }
  return nullptr;
}

EngineRefusal probeEngine(EngineKind kind) {
  EngineRefusal refusal;
  createEngine(kind, 1, &refusal);
  return refusal;
}

}  // namespace aioring
