// Which engines this kernel and process can use, and the errno behind a refusal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine.h"

namespace aioring {

enum class EngineKind { kLibaio, kIoUring, kThreadPool };

// The name JS uses for each engine (lib/native-contract.ts engineNames, in
// this order) and that its Engine::name() returns.
struct EngineKindName {
  EngineKind kind;
  const char* name;
};
constexpr EngineKindName kEngineKindNames[] = {
    {EngineKind::kLibaio, "libaio"}, {EngineKind::kIoUring, "io_uring"}, {EngineKind::kThreadPool, "threadpool"}};

bool parseEngineKind(const std::string& name, EngineKind* kind);

// Builds the named engine for a ring of `depth` requests, or explains why not.
std::unique_ptr<Engine> createEngine(EngineKind kind, uint32_t depth, EngineRefusal* refusal);

// Tries to build a minimal instance of the engine and tears it down again.
EngineRefusal probeEngine(EngineKind kind);

}  // namespace aioring
