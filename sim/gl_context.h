// Headless OpenGL contexts: EGL surfaceless (Mesa) or OSMesa. One per thread.
#pragma once

#include <memory>
#include <string>

namespace padbench {

enum class GlBackend { kAuto, kEgl, kOsmesa };

// True once this process has created a GL context. A process that has cannot
// fork renderers: the child inherits the GL library's state but not its threads.
bool GlContextCreated();

// "auto" | "egl" | "osmesa"; throws padbench::Error listing the valid names.
GlBackend ParseGlBackend(const std::string& name);
const char* GlBackendName(GlBackend backend);

// The first backend that succeeds becomes the process's backend (MuJoCo binds
// to one GL library per process); asking for another one later throws.
// An offscreen GL context made current on the creating thread. MuJoCo renders
// into its own framebuffer object, so the context needs no real surface.
class GlContext {
 public:
  // kAuto tries EGL, then OSMesa. Throws padbench::Error with each backend's reason.
  static std::unique_ptr<GlContext> Create(GlBackend backend = GlBackend::kAuto);
  virtual ~GlContext() = default;
  virtual GlBackend backend() const = 0;
  // Makes the context current on the calling thread.
  virtual void MakeCurrent() = 0;
  // Address of a GL function in this context's library (nullptr if unknown).
  virtual void* ProcAddress(const char* name) const = 0;
  // GL_RENDERER string, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
  std::string RendererName() const;
};

}  // namespace padbench
