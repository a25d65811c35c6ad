// Tells whether a file changed since it was last read (key files, JWKS files, client
// secrets; Kubernetes swaps a mounted Secret by renaming a symlink, so the inode counts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <sys/stat.h>

namespace portcullis::proxy {

struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// nullopt when the file cannot be stat'ed.
inline std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{st.st_dev, st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace portcullis::proxy
