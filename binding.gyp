{
  "targets": [
    {
      "target_name": "aioring",
      "sources": [
        "native/binding.cc",
        "native/aio_engine.cc",
        "native/uring_setup.cc",
        "native/uring_register.cc",
        "native/uring_submit.cc",
        "native/uring_reap.cc",
        "native/uring_aio_offload.cc",
        "native/delivery.cc",
        "native/pool_engine.cc",
        "native/adaptive_poll.cc",
        "native/probe.cc",
        "native/device.cc",
        "native/loop_device.cc",
        "native/file_space.cc",
        "native/huge_pages.cc",
        "native/checksum/checksum.cc",
        "native/checksum/crc_tables.cc",
        "native/checksum/crc_x86.cc",
        "native/log/frame.cc",
        "native/log/file_lock.cc",
        "native/integrity/protection.cc",
        "native/integrity/protected_io.cc",
        "native/integrity/kernel_pi.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "ldflags": ["-pthread"]
    }
  ]
}
