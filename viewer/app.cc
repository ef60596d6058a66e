#include "viewer/app.h"

#include <GL/gl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>

#include <fmt/format.h>
#include <imgui.h>

#include "eval/engine/engine.h"
#include "eval/report/stats.h"
#include "eval/report/video_observer.h"
#include "policies/family.h"
#include "policies/registry.h"
#include "sim/assets.h"
#include "sim/dataset.h"
#include "sim/error.h"
#include "sim/image_io.h"
#include "sim/json_file.h"
#include "tasks/registry.h"

namespace padbench::viewer {
namespace {

constexpr float kPanelWidth = 520;  // the right-hand column of panels
constexpr float kTimelineHeight = 64;
constexpr float kFrame = 104;       // policy-view and prediction images
const ImVec4 kRed(0.95f, 0.4f, 0.4f, 1.f);
const ImVec4 kGreen(0.45f, 0.85f, 0.55f, 1.f);
const ImVec4 kDim(0.6f, 0.6f, 0.65f, 1.f);
const ImVec4 kAmber(0.95f, 0.75f, 0.3f, 1.f);

// Policies offered in the session panel: those that need no file, then the shipped checkpoints.
std::vector<std::string> PresetPolicies() {
  std::vector<std::string> specs;
  for (const Family& f : Families())
    if (f.is_policy() && !f.takes_path) specs.emplace_back(f.name);
  for (const std::string& spec : ShippedPolicySpecs()) specs.push_back(spec);
  return specs;
}

// "PATH" or "PATH_2", "PATH_3", ... : the first that does not exist (recordings never overwrite).
std::string FreshPath(const std::string& path) {
  const std::filesystem::path p(path);
  std::string candidate = path;
  for (int n = 2; std::filesystem::exists(candidate); ++n) {
    candidate = (p.parent_path() / fmt::format("{}_{}{}", p.stem().string(), n, p.extension().string())).string();
  }
  return candidate;
}

uint64_t Tag(int64_t episode, int step, int slot = 0) {
  return (uint64_t(episode) << 32) ^ (uint64_t(step) << 8) ^ uint64_t(slot);
}

void CopyString(char* dst, size_t size, const std::string& src) {
  const size_t n = std::min(size - 1, src.size());
  std::copy_n(src.data(), n, dst);
  dst[n] = 0;
}

}  // namespace

App::App(const ViewerOptions& options) : options_(options) {
  session_ = std::make_unique<LiveSession>(options.live, options.paused);
  session_->SetSpeed(options.speed);
  max_speed_ = options.speed <= 0;
  speed_ = max_speed_ ? 1.f : float(options.speed);
  const auto& tasks = AllTasks();
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i]->Name() == options.live.task) task_index_ = int(i);
  }
  CopyString(policy_spec_, sizeof(policy_spec_), options.live.policy);
  seed_ = int(options.live.seed);
  realtime_ = options.live.timing.realtime;
  latency_ms_ = float(options.live.timing.latency_ms);
  CopyString(eval_dir_, sizeof(eval_dir_), options.eval_dir);
  CopyString(dataset_path_, sizeof(dataset_path_), options.dataset);
  // Given on the command line, these fail loudly (in the window they only report).
  if (!options.eval_dir.empty()) OpenEvalRun(options.eval_dir);
  if (options.eval_episode >= 0) RunEvalEpisode(options.eval_episode);
  if (!options.dataset.empty()) OpenDataset(options.dataset, options.dataset_episode);
}

App::~App() {
  if (recording_.valid()) recording_.wait();
}

// ---- frame ----

void App::Frame(int fb_width, int fb_height, float scale) {
  session_->Sync(&view_);
  const auto& steps = view_.episode.steps;
  if (follow_ || scrub_ >= int(steps.size())) scrub_ = std::max(0, int(steps.size()) - 1);
  if (recording_.valid() && recording_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    Message(recording_.get());
  }

  const float win_w = fb_width / scale, win_h = fb_height / scale;
  const float scene_w = std::max(0.f, win_w - kPanelWidth), scene_h = std::max(0.f, win_h - kTimelineHeight);
  glViewport(0, 0, fb_width, fb_height);
  glClearColor(0.09f, 0.1f, 0.12f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
  if (view_.model && !steps.empty()) {
    // GL's origin is the bottom-left: the scene sits above the timeline.
    scene_.Draw(view_.model, steps[ShownStep()].state, 0, int(kTimelineHeight * scale), int(scene_w * scale),
                int(scene_h * scale));
  }
  HandleSceneMouse(0, 0, scene_w, scene_h, scale);
  HandleKeys();
  Timeline(0, scene_h, scene_w);

  ImGui::SetNextWindowPos({scene_w, 0});
  ImGui::SetNextWindowSize({kPanelWidth, win_h});
  ImGui::Begin("padbench", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  SessionPanel();
  RunPanel();
  PredictionPanel();
  DenoisingPanel();
  PlotPanel();
  RecordPanel();
  ImGui::End();
}

void App::AfterRender(int fb_width, int fb_height) {
  if (screenshots_.empty()) return;
  Image shot(fb_height, fb_width);
  std::vector<uint8_t> rows(shot.pixels.size());
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, fb_width, fb_height, GL_RGB, GL_UNSIGNED_BYTE, rows.data());
  const size_t stride = size_t(fb_width) * 3;
  for (int y = 0; y < fb_height; ++y) {  // GL rows start at the bottom
    std::copy_n(rows.data() + (fb_height - 1 - y) * stride, stride, shot.pixels.data() + y * stride);
  }
  for (const std::string& path : screenshots_) {
    try {
      if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) std::filesystem::create_directories(dir);
      WritePng(path, shot);
      if (!recording_.valid()) Message("screenshot: " + path);
    } catch (const std::exception& e) {
      screenshot_error_ = fmt::format("cannot write screenshot {}: {}", path, e.what());
      Message(screenshot_error_);
    }
  }
  screenshots_.clear();
}

std::string App::FinishRecording() {
  if (recording_.valid()) Message(recording_.get());
  return message_;
}

int App::ShownStep() const { return std::clamp(scrub_, 0, std::max(0, int(view_.episode.steps.size()) - 1)); }

const LiveAct* App::ActAt(int step) const {
  const LiveAct* found = nullptr;
  for (const LiveAct& a : view_.episode.acts) {
    if (a.step <= step) found = &a;
  }
  return found;
}

// ---- input ----

void App::HandleSceneMouse(float x, float y, float width, float height, float scale) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantCaptureMouse) return;
  const ImVec2 m = io.MousePos;
  const bool inside = m.x >= x && m.x < x + width && m.y >= y && m.y < y + height;
  if (inside && io.MouseWheel != 0) scene_.Scroll(io.MouseWheel);
  const float dx = io.MouseDelta.x * scale, dy = io.MouseDelta.y * scale;
  if (!inside || (dx == 0 && dy == 0)) return;
  if (ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
    scene_.Move(io.KeyShift ? SceneView::Drag::kRotateHorizontal : SceneView::Drag::kRotate, dx, dy);
  } else if (ImGui::IsMouseDown(ImGuiMouseButton_Right)) {
    scene_.Move(io.KeyShift ? SceneView::Drag::kPanHorizontal : SceneView::Drag::kPan, dx, dy);
  } else if (ImGui::IsMouseDown(ImGuiMouseButton_Middle)) {
    scene_.Move(SceneView::Drag::kZoom, dx, dy);
  }
}

void App::HandleKeys() {
  if (ImGui::GetIO().WantCaptureKeyboard) return;
  if (ImGui::IsKeyPressed(ImGuiKey_Space)) view_.paused ? session_->Play() : session_->Pause();
  if (ImGui::IsKeyPressed(ImGuiKey_RightArrow)) session_->Step();
  if (ImGui::IsKeyPressed(ImGuiKey_Backspace)) session_->Restart();
}

// ---- panels ----

void App::Timeline(float x, float y, float width) {
  ImGui::SetNextWindowPos({x, y});
  ImGui::SetNextWindowSize({width, kTimelineHeight});
  ImGui::Begin("timeline", nullptr,
               ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                   ImGuiWindowFlags_NoScrollbar);
  const LiveEpisode& e = view_.episode;
  const int last = std::max(0, int(e.steps.size()) - 1);
  ImGui::Checkbox("live", &follow_);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(width - 90);
  if (ImGui::SliderInt("##step", &scrub_, 0, last, "step %d")) {
    // Scrubbing pauses the session, so the next episode does not replace the one being scrubbed.
    follow_ = false;
    if (!view_.paused) session_->Pause();
  }
  if (e.steps.empty()) {
    ImGui::TextColored(kDim, "%s", view_.status.c_str());
  } else {
    const LiveStep& s = e.steps[ShownStep()];
    ImGui::Text("%s #%d  step %d/%d  \"%s\"", e.task.c_str(), e.index, s.step, e.max_steps, e.instruction.c_str());
    if (s.success) {
      ImGui::SameLine();
      ImGui::TextColored(kGreen, "success");
    }
  }
  ImGui::End();
}

void App::SessionPanel() {
  if (!ImGui::CollapsingHeader("Session", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const auto& tasks = AllTasks();
  const std::string current = fmt::format("{} ({})", tasks[task_index_]->Name(), DifficultyName(tasks[task_index_]->Group()));
  if (ImGui::BeginCombo("task", current.c_str())) {
    for (size_t i = 0; i < tasks.size(); ++i) {
      const std::string label = fmt::format("{} ({})", tasks[i]->Name(), DifficultyName(tasks[i]->Group()));
      if (ImGui::Selectable(label.c_str(), int(i) == task_index_)) task_index_ = int(i);
    }
    ImGui::EndCombo();
  }
  ImGui::InputText("policy", policy_spec_, sizeof(policy_spec_));
  if (ImGui::BeginCombo("##presets", "shipped policies", ImGuiComboFlags_NoPreview)) {
    for (const std::string& spec : PresetPolicies()) {
      if (ImGui::Selectable(spec.c_str())) CopyString(policy_spec_, sizeof(policy_spec_), spec);
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::TextColored(kDim, "name or name=checkpoint");
  ImGui::InputInt("seed", &seed_);
  seed_ = std::max(0, seed_);
  ImGui::Checkbox("real time", &realtime_);
  if (realtime_) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(120);
    ImGui::InputFloat("Act ms (-1: measured)", &latency_ms_, 0, 0, "%.1f");
    latency_ms_ = std::max(-1.f, latency_ms_);
  }
  if (ImGui::Button("Apply (restarts the tally)")) {
    LiveConfig config = session_->config();
    config.task = std::string(tasks[task_index_]->Name());
    config.policy = policy_spec_;
    config.seed = uint64_t(seed_);
    config.timing = {realtime_, latency_ms_ < 0 ? -1.0 : double(latency_ms_)};
    config.first_episode = 0;
    session_->Configure(config);
    follow_ = true;
  }
  if (!view_.error.empty()) {
    ImGui::PushTextWrapPos();
    ImGui::TextColored(kRed, "%s", view_.error.c_str());
    ImGui::PopTextWrapPos();
  }
}

void App::RunPanel() {
  if (!ImGui::CollapsingHeader("Run", ImGuiTreeNodeFlags_DefaultOpen)) return;
  if (ImGui::Button(view_.paused ? "Play  [space]" : "Pause [space]", {120, 0})) {
    view_.paused ? session_->Play() : session_->Pause();
  }
  ImGui::SameLine();
  if (ImGui::Button("Step [->]")) session_->Step();
  ImGui::SameLine();
  if (ImGui::Button("Restart [bksp]")) {
    session_->Restart();
    follow_ = true;
  }
  ImGui::SetNextItemWidth(200);
  if (ImGui::SliderFloat("speed", &speed_, 0.05f, 20.f, "%.2fx real time", ImGuiSliderFlags_Logarithmic) && !max_speed_) {
    session_->SetSpeed(speed_);
  }
  ImGui::SameLine();
  if (ImGui::Checkbox("max", &max_speed_)) session_->SetSpeed(max_speed_ ? 0 : speed_);
  ImGui::PushTextWrapPos();
  ImGui::TextColored(kDim, "%s", view_.status.c_str());
  const ActTiming& timing = session_->config().timing;
  ImGui::TextColored(timing.realtime ? kAmber : kDim, "mode: %s%s", timing.Describe().c_str(),
                     timing.realtime ? " (while Act runs the last chunk goes on, then the arm holds still)" : "");
  ImGui::PopTextWrapPos();

  // Success across this configuration's episodes.
  const int n = int(view_.finished.size());
  int wins = 0;
  for (const EpisodeRecord& r : view_.finished) wins += r.success;
  if (n == 0) {
    ImGui::Text("no finished episodes yet");
  } else {
    const Interval ci = WilsonInterval(wins, n);
    ImGui::Text("success %d/%d = %.0f%%  (95%% CI %.0f-%.0f%%)", wins, n, 100.0 * wins / n, 100 * ci.low, 100 * ci.high);
  }
  ImDrawList* draw = ImGui::GetWindowDrawList();
  ImVec2 p = ImGui::GetCursorScreenPos();
  const int shown = std::min(n, 60);  // the newest 60 episodes as squares
  for (int i = 0; i < shown; ++i) {
    const EpisodeRecord& r = view_.finished[n - shown + i];
    const ImVec2 a(p.x + (i % 30) * 15.f, p.y + (i / 30) * 15.f);
    draw->AddRectFilled(a, {a.x + 12, a.y + 12}, r.success ? IM_COL32(80, 200, 120, 255) : IM_COL32(220, 80, 80, 255));
  }
  ImGui::Dummy({30 * 15.f, shown > 30 ? 30.f : 15.f});
}

void App::PredictionPanel() {
  if (!ImGui::CollapsingHeader("Policy view and predictions", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const LiveEpisode& e = view_.episode;
  if (e.steps.empty()) return;
  const int shown = ShownStep();
  const LiveStep& s = e.steps[shown];
  // Row 1: the real frame, and per horizon the newest prediction that has met its real frame.
  LabelledImage(textures_, "camera", Tag(e.id, shown), s.camera, kFrame, fmt::format("t={}\nreal", shown));
  // The goal a two-stage policy is acting towards now.
  if (const LiveGoal goal = CurrentGoal(e, shown); goal.frame) {
    ImGui::SameLine();
    LabelledImage(textures_, "goal", Tag(e.id, goal.act->step, 2000), goal.frame->rgb, kFrame,
                  fmt::format("goal from t={}\nfor t={}", goal.act->step, goal.act->step + goal.frame->horizon));
  }
  // Per (kind, horizon): the newest prediction that has met its real frame, and running means of
  // its PSNR, the persistence baseline's and the object-masked ones up to the shown step.
  struct Tally {
    int target = 0;
    const LivePrediction* newest = nullptr;
    double psnr = 0, copy = 0, masked = 0, masked_copy = 0;
    int n = 0, masked_n = 0;
  };
  std::map<std::pair<PredictionKind, int>, Tally> tallies;
  for (int i = 0; i <= shown; ++i) {
    for (const LivePrediction& p : e.steps[i].predictions) {
      Tally& t = tallies[{p.kind, p.horizon}];
      t.target = i;
      t.newest = &p;
      t.psnr += p.psnr;
      t.copy += p.persistence_psnr;
      ++t.n;
      if (!std::isnan(p.masked_psnr)) {
        t.masked += p.masked_psnr;
        t.masked_copy += p.masked_persistence_psnr;
        ++t.masked_n;
      }
    }
  }
  for (const auto& [key, t] : tallies) {
    const auto [kind, h] = key;
    ImGui::SameLine();
    LabelledImage(textures_, fmt::format("arrived{}{}", int(kind), h), Tag(e.id, t.target, h + 1000 * int(kind)),
                  t.newest->rgb, kFrame,
                  fmt::format("t={} {} t-{}\n{:.1f} dB (copy {:.1f})", t.target,
                              kind == PredictionKind::kGoal ? "goal from" : "from", h, t.newest->psnr,
                              t.newest->persistence_psnr));
  }
  if (!tallies.empty()) {
    ImGui::TextWrapped("PSNR so far, model / copy of the frame seen (full frame; robot and objects):");
    for (const auto& [key, t] : tallies) {
      const std::string masked = t.masked_n ? fmt::format("{:.1f} / {:.1f}", t.masked / t.masked_n,
                                                          t.masked_copy / t.masked_n)
                                            : "-";
      ImGui::Text("  %s h=%d: %.1f / %.1f dB, objects %s dB (n=%d)", key.first == PredictionKind::kGoal ? "goal" : "future",
                  key.second, t.psnr / t.n, t.copy / t.n, masked.c_str(), t.n);
    }
  }
  // Row 2: what the newest Act call that predicted frames predicts for the steps still ahead.
  const LiveAct* act = LatestPrediction(e, shown);
  if (!act) {
    ImGui::TextColored(kDim, "this policy predicts no frames");
    return;
  }
  ImGui::TextColored(kDim, "predicted at t=%d for:", act->step);
  for (size_t i = 0; i < act->predicted.size(); ++i) {
    const PredictedFrame& f = act->predicted[i];
    if (i) ImGui::SameLine();
    LabelledImage(textures_, fmt::format("ahead{}", i), Tag(e.id, act->step, int(i) + 64), f.rgb, kFrame * 0.75f,
                  fmt::format("t={}", act->step + f.horizon));
  }
}

void App::DenoisingPanel() {
  const LiveAct* act = ActAt(ShownStep());
  if (!act || act->denoising.empty()) return;
  if (!ImGui::CollapsingHeader("Denoising", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const int total = int(act->denoising.size());
  ImGui::PushTextWrapPos();
  ImGui::TextColored(kDim, "Act at t=%d (%.0f ms), denoising step k of %d: %s", act->step, act->ms,
                     act->denoising.front().total_steps,
                     act->denoising.front().frames.empty() ? "action chunk" : "first predicted frame, action chunk");
  ImGui::PopTextWrapPos();
  // Up to five samples: evenly spaced, always including the first and the last.
  const int shown = std::min(total, 5);
  const float cell = (kPanelWidth - 30) / 5 - 6;
  for (int k = 0; k < shown; ++k) {
    const int i = shown == 1 ? total - 1 : int(std::lround(double(k) * (total - 1) / (shown - 1)));
    const DenoiseSample& d = act->denoising[i];
    if (k) ImGui::SameLine();
    ImGui::BeginGroup();
    const std::string label = fmt::format("k={}", d.step);
    if (!d.frames.empty()) {
      LabelledImage(textures_, fmt::format("denoise{}", k), Tag(view_.episode.id, act->step, 16 + i), d.frames.front().rgb,
                    cell, label);
    } else {
      ImGui::TextUnformatted(label.c_str());
    }
    std::vector<Series> chunk(kActionDim);
    for (int c = 0; c < kActionDim; ++c) {
      chunk[c].colour = ActionColour(c);
      for (size_t t = 0; t < d.actions.size(); ++t) {
        chunk[c].x.push_back(float(t));
        chunk[c].y.push_back(d.actions[t][c]);
      }
    }
    Plot(fmt::format("##dn{}", k).c_str(), chunk, 0, float(std::max<size_t>(1, d.actions.size() - 1)), -1.2f, 1.2f,
         {cell, 48});
    ImGui::EndGroup();
  }
}

void App::PlotPanel() {
  if (!ImGui::CollapsingHeader("Plots", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const LiveEpisode& e = view_.episode;
  const float width = kPanelWidth - 24;
  const int shown = ShownStep();
  // Commanded actions (solid) and the chunk of the Act call that covers the shown step (dashed).
  std::vector<Series> lines;
  for (int c = 0; c < kActionDim; ++c) {
    Series done;
    done.colour = ActionColour(c);
    for (size_t i = 1; i < e.steps.size(); ++i) {
      done.x.push_back(float(i));
      done.y.push_back(e.steps[i].action[c]);
    }
    lines.push_back(std::move(done));
  }
  if (const LiveAct* act = ActAt(shown)) {
    for (int c = 0; c < kActionDim; ++c) {
      Series chunk;
      chunk.colour = ActionColour(c, 150);
      chunk.dashed = true;
      for (size_t i = 0; i < act->actions.size(); ++i) {
        chunk.x.push_back(float(act->step + 1 + i));
        chunk.y.push_back(act->actions[i][c]);
      }
      lines.push_back(std::move(chunk));
    }
  }
  Plot("actions: x y z gripper (dashed: chunk)", lines, 0, float(std::max(e.max_steps, 1)), -1.1f, 1.1f, {width, 110},
       float(shown));
  // Per-Act latency.
  Series latency;
  latency.colour = IM_COL32(200, 160, 255, 255);
  float worst = 1;
  for (const LiveAct& a : e.acts) {
    latency.x.push_back(float(a.step));
    latency.y.push_back(float(a.ms));
    worst = std::max(worst, float(a.ms));
  }
  std::vector<double> ms(latency.y.begin(), latency.y.end());
  std::sort(ms.begin(), ms.end());
  const std::string title = ms.empty() ? "Act latency (ms)"
                                       : fmt::format("Act latency (ms): {} calls, median {:.1f}, last {:.1f}", ms.size(),
                                                     ms[ms.size() / 2], latency.y.back());
  Plot(title.c_str(), {latency}, 0, float(std::max(e.max_steps, 1)), 0, worst * 1.15f, {width, 80}, float(shown));
  // Success rate as episodes finish, with its 95% interval.
  Series rate, low, high;
  rate.colour = IM_COL32(80, 200, 120, 255);
  low.colour = high.colour = IM_COL32(80, 200, 120, 90);
  int wins = 0;
  for (size_t i = 0; i < view_.finished.size(); ++i) {
    wins += view_.finished[i].success;
    const Interval ci = WilsonInterval(wins, int(i) + 1);
    for (Series* s : {&rate, &low, &high}) s->x.push_back(float(i + 1));
    rate.y.push_back(float(wins) / float(i + 1));
    low.y.push_back(float(ci.low));
    high.y.push_back(float(ci.high));
  }
  Plot("success rate over episodes (faint: 95% CI)", {low, high, rate}, 1,
       float(std::max<size_t>(2, view_.finished.size())), 0, 1, {width, 70});
}

void App::RecordPanel() {
  if (!ImGui::CollapsingHeader("Record and replay", ImGuiTreeNodeFlags_DefaultOpen)) return;
  const bool busy = recording_.valid();
  if (busy) ImGui::BeginDisabled();
  if (ImGui::Button("Record episode (mp4 + png)")) Record();
  if (busy) ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button("Screenshot")) {
    RequestScreenshot(FreshPath(fmt::format("{}/screenshot.png", options_.out_dir)));
  }
  if (!message_.empty()) {
    ImGui::PushTextWrapPos();
    ImGui::TextColored(kDim, "%s", message_.c_str());
    ImGui::PopTextWrapPos();
  }

  ImGui::Separator();
  ImGui::InputText("eval run", eval_dir_, sizeof(eval_dir_));
  ImGui::SameLine();
  if (ImGui::Button("List")) Try([&] { OpenEvalRun(eval_dir_); });
  if (!eval_episodes_.empty() &&
      ImGui::BeginTable("episodes", 5, ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV,
                        {0, 130})) {
    ImGui::TableSetupColumn("policy");
    ImGui::TableSetupColumn("task");
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, 30);
    ImGui::TableSetupColumn("result", ImGuiTableColumnFlags_WidthFixed, 90);
    ImGui::TableSetupColumn("steps", ImGuiTableColumnFlags_WidthFixed, 40);
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < eval_episodes_.size(); ++i) {
      const EpisodeRecord& r = eval_episodes_[i];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const std::string name = std::filesystem::path(r.policy).filename().string();
      if (ImGui::Selectable(fmt::format("{}##ep{}", r.policy.size() > 40 ? name : r.policy, i).c_str(), false,
                            ImGuiSelectableFlags_SpanAllColumns)) {
        Try([&] { RunEvalEpisode(int(i)); });
      }
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(r.task.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%d", r.index);
      ImGui::TableNextColumn();
      ImGui::TextColored(r.success ? kGreen : kRed, "%s", r.success ? "success" : r.failure.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%d", r.length);
    }
    ImGui::EndTable();
  }

  ImGui::Separator();
  ImGui::InputText("dataset", dataset_path_, sizeof(dataset_path_));
  ImGui::SameLine();
  if (ImGui::Button("Open")) Try([&] { OpenDataset(dataset_path_, 0); });
  if (dataset_episodes_ > 0) {
    ImGui::SetNextItemWidth(200);
    ImGui::SliderInt("episode", &dataset_episode_, 0, dataset_episodes_ - 1);
    ImGui::SameLine();
    if (ImGui::Button("Replay")) Try([&] { OpenDataset(dataset_path_, dataset_episode_); });
  }
}

// ---- actions ----

void App::Record() {
  const LiveEpisode& e = view_.episode;
  if (e.steps.empty() || !view_.model) {
    Message("nothing to record yet");
    return;
  }
  const std::string mp4 = FreshPath(VideoPath(options_.out_dir, e.policy, e.task, e.index));
  const std::string png = mp4.substr(0, mp4.size() - 4) + ".png";
  RequestScreenshot(png);
  // The video renders the scene again from the recorded states on a thread of its own (its own
  // GL context), so the window keeps drawing meanwhile.
  recording_ = std::async(std::launch::async, [episode = e, model = view_.model, camera = scene_.camera(), mp4,
                                               gl = options_.live.gl]() -> std::string {
    try {
      std::filesystem::create_directories(std::filesystem::path(mp4).parent_path());
      WriteLiveVideo(episode, model, camera, mp4, gl);
      return fmt::format("wrote {} ({} frames)", mp4, episode.steps.size());
    } catch (const std::exception& ex) {
      return fmt::format("recording failed: {}", ex.what());
    }
  });
  Message("recording " + mp4 + " ...");
}

void App::OpenEvalRun(const std::string& dir) {
  const std::string path = dir + "/episodes.jsonl";
  if (!std::filesystem::exists(path)) throw Error(fmt::format("{} not found (is {} an eval run?)", path, dir));
  eval_episodes_ = ReadEpisodesJsonl(path);
  // A real-time run's episodes run again in real time (its run.json says how).
  const std::string run_json = dir + "/run.json";
  const ActTiming timing = std::filesystem::exists(run_json)
                               ? ActTiming::FromJson(ReadJsonFile(run_json).value("act_timing", nlohmann::json()))
                               : ActTiming{};
  if (timing.realtime != session_->config().timing.realtime || timing.latency_ms != session_->config().timing.latency_ms) {
    LiveConfig config = session_->config();
    config.timing = timing;
    session_->Configure(config);
    realtime_ = timing.realtime;
    latency_ms_ = float(timing.latency_ms);
  }
  // Finished order depends on the workers; list them by policy, task and index.
  std::stable_sort(eval_episodes_.begin(), eval_episodes_.end(), [](const EpisodeRecord& a, const EpisodeRecord& b) {
    return std::tie(a.policy, a.task, a.index) < std::tie(b.policy, b.task, b.index);
  });
  Message(fmt::format("{}: {} episodes; click one to run it again (same policy, task and seed)", dir,
                      eval_episodes_.size()));
}

void App::RunEvalEpisode(int row) {
  if (row < 0 || row >= int(eval_episodes_.size())) {
    throw Error(fmt::format("eval episode {} does not exist; the run lists {}", row, eval_episodes_.size()));
  }
  const EpisodeRecord& r = eval_episodes_[row];
  session_->RunEpisodeAgain(r.task, r.policy, r.index, r.seed);
  follow_ = true;
  Message(fmt::format("running {} on {} #{} again (seed {})", r.policy, r.task, r.index, r.seed));
}

void App::OpenDataset(const std::string& path, int episode) {
  auto reader = DatasetReader::Open(path);
  dataset_episodes_ = reader->NumEpisodes();
  if (episode < 0 || episode >= dataset_episodes_) {
    throw Error(fmt::format("{} has {} episodes; there is no episode {}", path, dataset_episodes_, episode));
  }
  dataset_episode_ = episode;
  if (!reader->HasActions()) throw Error(fmt::format("{} is an action-free video set: nothing to replay", path));
  const EpisodeData ep = reader->Read(episode);
  LiveReplay replay{ep.task, ep.seed, {}, fmt::format("{}#{}", std::filesystem::path(path).filename().string(), episode)};
  for (int t = 0; t < ep.length; ++t) {
    replay.actions.push_back({ep.actions[4 * t], ep.actions[4 * t + 1], ep.actions[4 * t + 2], ep.actions[4 * t + 3]});
  }
  session_->Replay(std::move(replay));
  follow_ = true;
  Message(fmt::format("replaying {} episode {} ({}, seed {}, {} actions)", path, episode, ep.task, ep.seed, ep.length));
}

void App::Try(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    Message(e.what());
  }
}

}  // namespace padbench::viewer
