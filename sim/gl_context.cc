#include "sim/gl_context.h"

#include <dlfcn.h>

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/osmesa.h>

#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench {

GlBackend ParseGlBackend(const std::string& name) {
  if (name == "auto") return GlBackend::kAuto;
  if (name == "egl") return GlBackend::kEgl;
  if (name == "osmesa") return GlBackend::kOsmesa;
  throw Error(fmt::format("unknown GL backend '{}'; valid: auto, egl, osmesa", name));
}

const char* GlBackendName(GlBackend backend) {
  switch (backend) {
    case GlBackend::kAuto: return "auto";
    case GlBackend::kEgl: return "egl";
    case GlBackend::kOsmesa: return "osmesa";
  }
  return "?";
}

namespace {

// ---- Loading the GL library at run time ----
// MuJoCo picks its GL loader from the libraries the process has loaded (libEGL
// before libOSMesa), so linking both would make OSMesa contexts unusable.
// padbench therefore links neither and dlopens the one backend the process
// uses; the first backend that succeeds is the process's backend.
std::mutex backend_mutex;
GlBackend process_backend = GlBackend::kAuto;  // kAuto: none chosen yet

void* OpenLibrary(const char* name) {
  void* lib = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) throw Error(fmt::format("cannot load {}: {}", name, dlerror()));
  return lib;
}

template <typename Fn>
Fn Symbol(void* lib, const char* name) {
  void* sym = dlsym(lib, name);
  if (!sym) throw Error(fmt::format("GL library lacks {}", name));
  return reinterpret_cast<Fn>(sym);
}

// ---- EGL: a surfaceless Mesa display, no window system needed ----
struct EglApi {
  explicit EglApi(void* lib)
      : GetProcAddress(Symbol<PFNEGLGETPROCADDRESSPROC>(lib, "eglGetProcAddress")),
        Initialize(Symbol<PFNEGLINITIALIZEPROC>(lib, "eglInitialize")),
        ChooseConfig(Symbol<PFNEGLCHOOSECONFIGPROC>(lib, "eglChooseConfig")),
        BindAPI(Symbol<PFNEGLBINDAPIPROC>(lib, "eglBindAPI")),
        CreateContext(Symbol<PFNEGLCREATECONTEXTPROC>(lib, "eglCreateContext")),
        MakeCurrent(Symbol<PFNEGLMAKECURRENTPROC>(lib, "eglMakeCurrent")),
        DestroyContext(Symbol<PFNEGLDESTROYCONTEXTPROC>(lib, "eglDestroyContext")),
        GetError(Symbol<PFNEGLGETERRORPROC>(lib, "eglGetError")) {}
  PFNEGLGETPROCADDRESSPROC GetProcAddress;
  PFNEGLINITIALIZEPROC Initialize;
  PFNEGLCHOOSECONFIGPROC ChooseConfig;
  PFNEGLBINDAPIPROC BindAPI;
  PFNEGLCREATECONTEXTPROC CreateContext;
  PFNEGLMAKECURRENTPROC MakeCurrent;
  PFNEGLDESTROYCONTEXTPROC DestroyContext;
  PFNEGLGETERRORPROC GetError;
};

const EglApi& Egl() {
  static const EglApi api(OpenLibrary("libEGL.so.1"));
  return api;
}

class EglContext final : public GlContext {
 public:
  EglContext() : egl_(Egl()) {
    auto get_platform_display =
        reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(egl_.GetProcAddress("eglGetPlatformDisplayEXT"));
    if (!get_platform_display) throw Error("EGL: eglGetPlatformDisplayEXT is not available");
    display_ = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (display_ == EGL_NO_DISPLAY) throw Error("EGL: no surfaceless Mesa display");
    EGLint major = 0, minor = 0;
    if (!egl_.Initialize(display_, &major, &minor)) throw Error(fmt::format("EGL: eglInitialize failed (0x{:x})", egl_.GetError()));
    const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                     EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8,
                                     EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
    EGLConfig config;
    EGLint count = 0;
    if (!egl_.ChooseConfig(display_, config_attribs, &config, 1, &count) || count < 1) {
      throw Error("EGL: no RGBA8/depth24 OpenGL config");
    }
    if (!egl_.BindAPI(EGL_OPENGL_API)) throw Error("EGL: egl_.BindAPI(EGL_OPENGL_API) failed");
    context_ = egl_.CreateContext(display_, config, EGL_NO_CONTEXT, nullptr);
    if (context_ == EGL_NO_CONTEXT) throw Error(fmt::format("EGL: eglCreateContext failed (0x{:x})", egl_.GetError()));
    MakeCurrent();
  }
  ~EglContext() override {
    egl_.MakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    egl_.DestroyContext(display_, context_);
    // The display is shared process-wide (same handle for every context); never eglTerminate it here.
  }
  GlBackend backend() const override { return GlBackend::kEgl; }
  void* ProcAddress(const char* name) const override { return reinterpret_cast<void*>(egl_.GetProcAddress(name)); }
  void MakeCurrent() override {
    if (!egl_.MakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, context_)) {
      throw Error(fmt::format("EGL: eglMakeCurrent failed (0x{:x})", egl_.GetError()));
    }
  }

 private:
  const EglApi& egl_;
  EGLDisplay display_ = EGL_NO_DISPLAY;
  EGLContext context_ = EGL_NO_CONTEXT;
};

// ---- OSMesa: software rendering into a client buffer (MuJoCo then uses its own FBO) ----
struct OsmesaApi {
  explicit OsmesaApi(void* lib)
      : CreateContextAttribs(Symbol<decltype(&OSMesaCreateContextAttribs)>(lib, "OSMesaCreateContextAttribs")),
        MakeCurrent(Symbol<decltype(&OSMesaMakeCurrent)>(lib, "OSMesaMakeCurrent")),
        DestroyContext(Symbol<decltype(&OSMesaDestroyContext)>(lib, "OSMesaDestroyContext")),
        GetProcAddress(Symbol<decltype(&OSMesaGetProcAddress)>(lib, "OSMesaGetProcAddress")) {}
  decltype(&OSMesaCreateContextAttribs) CreateContextAttribs;
  decltype(&OSMesaMakeCurrent) MakeCurrent;
  decltype(&OSMesaDestroyContext) DestroyContext;
  decltype(&OSMesaGetProcAddress) GetProcAddress;
};

const OsmesaApi& Osmesa() {
  static const OsmesaApi api(OpenLibrary("libOSMesa.so.8"));
  return api;
}

class OsmesaContext final : public GlContext {
 public:
  OsmesaContext() : osmesa_(Osmesa()), buffer_(kSize * kSize * 4) {
    const int attribs[] = {OSMESA_FORMAT, OSMESA_RGBA, OSMESA_DEPTH_BITS, 24, OSMESA_STENCIL_BITS, 8,
                           OSMESA_PROFILE, OSMESA_COMPAT_PROFILE, 0};
    context_ = osmesa_.CreateContextAttribs(attribs, nullptr);
    if (!context_) throw Error("OSMesa: OSMesaCreateContextAttribs failed");
    MakeCurrent();
  }
  ~OsmesaContext() override { osmesa_.DestroyContext(context_); }
  GlBackend backend() const override { return GlBackend::kOsmesa; }
  void* ProcAddress(const char* name) const override { return reinterpret_cast<void*>(osmesa_.GetProcAddress(name)); }
  void MakeCurrent() override {
    if (!osmesa_.MakeCurrent(context_, buffer_.data(), 0x1401 /* GL_UNSIGNED_BYTE */, kSize, kSize)) {
      throw Error("OSMesa: OSMesaMakeCurrent failed");
    }
  }

 private:
  static constexpr int kSize = 16;  // the default framebuffer is unused
  const OsmesaApi& osmesa_;
  OSMesaContext context_ = nullptr;
  std::vector<unsigned char> buffer_;
};

std::unique_ptr<GlContext> Make(GlBackend backend) {
  if (backend == GlBackend::kEgl) return std::make_unique<EglContext>();
  return std::make_unique<OsmesaContext>();
}

}  // namespace

std::unique_ptr<GlContext> GlContext::Create(GlBackend backend) {
  std::lock_guard<std::mutex> lock(backend_mutex);
  if (process_backend != GlBackend::kAuto) {
    if (backend != GlBackend::kAuto && backend != process_backend) {
      throw Error(fmt::format("GL backend {} requested, but this process already renders with {}",
                              GlBackendName(backend), GlBackendName(process_backend)));
    }
    return Make(process_backend);
  }
  std::unique_ptr<GlContext> context;
  if (backend != GlBackend::kAuto) {
    context = Make(backend);
  } else {
    try {
      context = Make(GlBackend::kEgl);
    } catch (const Error& egl_error) {
      try {
        context = Make(GlBackend::kOsmesa);
      } catch (const Error& osmesa_error) {
        throw Error(fmt::format("no headless GL context: {}; {}", egl_error.what(), osmesa_error.what()));
      }
    }
  }
  process_backend = context->backend();
  return context;
}

bool GlContextCreated() {
  std::lock_guard<std::mutex> lock(backend_mutex);
  return process_backend != GlBackend::kAuto;
}

std::string GlContext::RendererName() const {
  using GetString = const unsigned char* (*)(unsigned int);
  auto fn = reinterpret_cast<GetString>(ProcAddress("glGetString"));
  const unsigned char* s = fn ? fn(0x1F01 /* GL_RENDERER */) : nullptr;
  return s ? reinterpret_cast<const char*>(s) : "unknown";
}

}  // namespace padbench
