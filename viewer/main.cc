// padbench-viewer: watch a policy act in a task, live (GLFW + Dear ImGui + OpenGL 3).
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <GLFW/glfw3.h>
#include <fmt/format.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include "policies/registry.h"
#include "sim/env.h"
#include "sim/error.h"
#include "tasks/registry.h"
#include "viewer/app.h"

namespace {

void GlfwError(int code, const char* message) { std::fprintf(stderr, "glfw error %d: %s\n", code, message); }

int Run(int argc, char** argv) {
  padbench::viewer::ViewerOptions options;
  options.live.task = "drawer-open";
  options.live.policy = "expert";
  std::string screenshot, gl = "auto";
  int frames = 120, width = 1600, height = 960, seed = 0;
  std::string policies = "policies:";
  for (const auto& [name, help] : padbench::PolicyNames()) policies += fmt::format("\n  {:<24} {}", name, help);

  CLI::App cli("padbench-viewer: watch a policy act in a task: the 3-D scene (drag: left rotates, right pans, "
               "scroll zooms), the policy's camera, its predicted frames and denoising steps, actions, latency "
               "and success. Keys: space play/pause, right arrow step, backspace restart.",
               "padbench-viewer");
  cli.footer(policies);
  cli.add_option("--task", options.live.task, "task to run (see `padbench tasks`)")->capture_default_str();
  cli.add_option("--policy", options.live.policy, "policy spec: name or name=checkpoint")->capture_default_str();
  cli.add_option("--seed", seed, "base seed; episode i uses the seed `padbench eval --seed` gives it")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cli.add_option("--episode", options.live.first_episode, "index of the first episode")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cli.add_flag("--paused", options.paused, "start paused (step with the right arrow)");
  cli.add_option("--speed", options.speed, "simulated time per wall-clock time; 0 = as fast as possible")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  CLI::Option* realtime = cli.add_flag("--realtime", options.live.timing.realtime,
                                       "the simulator does not wait for Act (as `padbench eval --realtime`)");
  cli.add_option("--latency-ms", options.live.timing.latency_ms,
                 "with --realtime: every Act takes this long, instead of its measured wall time")
      ->check(CLI::NonNegativeNumber)->needs(realtime);
  CLI::Option* eval_run = cli.add_option("--eval-run", options.eval_dir, "an eval output folder whose episodes to list (click one to run it again)");
  cli.add_option("--eval-episode", options.eval_episode, "with --eval-run: run this row of its episode list (sorted by policy, task, index) again at start")
      ->check(CLI::NonNegativeNumber)->needs(eval_run);
  CLI::Option* dataset = cli.add_option("--dataset", options.dataset, "an HDF5 dataset; replays --dataset-episode at start");
  cli.add_option("--dataset-episode", options.dataset_episode, "episode of --dataset to replay")->capture_default_str()
      ->check(CLI::NonNegativeNumber)->needs(dataset);
  cli.add_option("--out", options.out_dir, "folder for recordings and screenshots")->capture_default_str();
  cli.add_option("--threads", options.live.torch_threads, "LibTorch threads for the policy")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--gl", gl, "offscreen GL backend of the episode worker: auto, egl, osmesa")->capture_default_str();
  cli.add_option("--size", width, "window width in pixels (height follows at 5:3)")->capture_default_str()
      ->check(CLI::Range(640, 7680));
  cli.add_option("--screenshot", screenshot, "headless check: render --frames frames (more until the shown episode has a step), save this PNG, exit");
  cli.add_option("--frames", frames, "frames to render before --screenshot")->capture_default_str()
      ->check(CLI::PositiveNumber);
  bool record = false;
  cli.add_flag("--record", record, "with --screenshot: also record the shown episode (mp4 + png in --out), "
                                   "as the Record button does");
  CLI11_PARSE(cli, argc, argv);
  options.live.seed = uint64_t(seed);
  options.live.gl = padbench::ParseGlBackend(gl);
  height = width * 3 / 5;

  padbench::InstallMujocoHandlers();
  padbench::FindTask(options.live.task);  // a clear error before a window opens
  padbench::ParsePolicySpec(options.live.policy);

  glfwSetErrorCallback(GlfwError);
  if (!glfwInit()) throw padbench::Error("cannot initialise GLFW (no display? run under xvfb-run for headless use)");
  glfwWindowHint(GLFW_SAMPLES, 4);
  GLFWwindow* window = glfwCreateWindow(width, height, "padbench viewer", nullptr, nullptr);
  if (!window) {
    glfwTerminate();
    throw padbench::Error("cannot open a window with an OpenGL context");
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(screenshot.empty() ? 1 : 0);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini written into the working folder
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  int status = 0;
  {
    padbench::viewer::App app(options);
    const auto start = std::chrono::steady_clock::now();
    for (int frame = 0; !glfwWindowShouldClose(window); ++frame) {
      // Interactive: wake on input or after a frame's time (no busy loop when nothing happens);
      // headless: as fast as it renders.
      if (screenshot.empty()) {
        glfwWaitEventsTimeout(1.0 / 60);
      } else {
        glfwPollEvents();
      }
      int fb_w = 0, fb_h = 0, win_w = 0, win_h = 0;
      glfwGetFramebufferSize(window, &fb_w, &fb_h);
      glfwGetWindowSize(window, &win_w, &win_h);
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      // Headless: the screenshot of the first frame from --frames on that shows a step of its
      // episode (at maximum speed a new episode may just have begun, an empty scene), or the
      // session's failure; 600 frames more at most.
      const bool due = !screenshot.empty() && frame + 1 >= frames;
      if (due) app.RequestScreenshot(screenshot);
      app.Frame(fb_w, fb_h, win_w > 0 ? float(fb_w) / float(win_w) : 1.f);
      const bool last = due && (!app.view().episode.steps.empty() || !app.view().error.empty() ||
                                frame + 1 >= frames + 600);
      if (last && record) app.Record();
      ImGui::Render();
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      app.AfterRender(fb_w, fb_h);
      glfwSwapBuffers(window);
      if (last) {
        // The headless check fails when the session could not run (a bad checkpoint, ...).
        const padbench::LiveView& view = app.view();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s: %d frames in %.1f s (%.0f fps); %s; %zu steps shown\n", screenshot.c_str(), frame + 1,
                    seconds, (frame + 1) / seconds, view.status.c_str(), view.episode.steps.size());
        if (record) std::printf("%s\n", app.FinishRecording().c_str());
        if (!view.error.empty()) {
          std::fprintf(stderr, "padbench-viewer: error: %s\n", view.error.c_str());
          status = 1;
        }
        if (!app.screenshot_error().empty()) {
          std::fprintf(stderr, "padbench-viewer: error: %s\n", app.screenshot_error().c_str());
          status = 1;
        }
        break;
      }
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "padbench-viewer: error: %s\n", e.what());
    return 2;
  }
}
