#include "probe.h"

#include "aio_engine.h"
#include "pool_engine.h"
#include "uring_engine.h"

namespace aioring {

bool parseEngineKind(const std::string& name, EngineKind* kind) {
  for (const EngineKindName& engine : kEngineKindNames) {
    if (name == engine.name) {
      *kind = engine.kind;
      return true;
    }
  }
  return false;
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
