// The viewer's window contents: the scene, the panels, and what the buttons do. A client of
// eval's LiveSession: it draws what the session publishes and never runs the episode itself.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "eval/engine/episode_record.h"
#include "eval/live/live.h"
#include "viewer/scene_view.h"
#include "viewer/widgets.h"

namespace padbench::viewer {

struct ViewerOptions {
  LiveConfig live;
  bool paused = false;
  double speed = 1;                    // 1 = real time, 0 = as fast as possible
  std::string out_dir = "out/viewer";  // recordings and screenshots
  std::string eval_dir;                // an eval run to list at start (optional)...
  int eval_episode = -1;               // ...and the row of its episodes.jsonl to run again at start
  std::string dataset;                 // a dataset whose episode to replay at start (optional)
  int dataset_episode = 0;
};

class App {
 public:
  // Throws padbench::Error on an unknown task (the session starts at once), or an eval run or
  // dataset episode in the options that cannot be opened.
  explicit App(const ViewerOptions& options);
  ~App();

  // Builds one frame: syncs with the session, handles the mouse over the scene, draws the scene
  // (framebuffer pixels) and the ImGui panels (window coordinates; `scale` = framebuffer / window).
  void Frame(int fb_width, int fb_height, float scale);
  // After ImGui has rendered, before the buffer swap: writes a screenshot if one was asked for.
  void AfterRender(int fb_width, int fb_height);
  // Why the last screenshot could not be written ("" if it was).
  const std::string& screenshot_error() const { return screenshot_error_; }
  // Saves the next rendered frame as PNG.
  void RequestScreenshot(const std::string& path) { screenshots_.push_back(path); }
  // The Record button: writes the shown episode as mp4 (the scene from the current camera, the
  // policy's view and its predictions) on a background thread, and a PNG of the window, into
  // the output folder; never overwrites.
  void Record();
  // Waits for a recording in progress; returns what the last action reported.
  std::string FinishRecording();

  const LiveView& view() const { return view_; }

 private:
  // ---- panels ----
  void SessionPanel();
  void RunPanel();
  void PredictionPanel();
  void DenoisingPanel();
  void PlotPanel();
  void RecordPanel();
  void Timeline(float x, float y, float width);
  void HandleSceneMouse(float x, float y, float width, float height, float scale);
  void HandleKeys();

  // ---- helpers ----
  int ShownStep() const;                    // the step drawn (live: the newest)
  const LiveAct* ActAt(int step) const;     // the newest Act call at or before `step`
  // These throw padbench::Error on bad input; buttons call them through Try, which reports it.
  void OpenEvalRun(const std::string& dir);
  void RunEvalEpisode(int row);
  void OpenDataset(const std::string& path, int episode);
  void Try(const std::function<void()>& action);
  void Message(const std::string& text) { message_ = text; }

  ViewerOptions options_;
  std::unique_ptr<LiveSession> session_;
  LiveView view_;
  SceneView scene_;
  TextureCache textures_;

  // Session panel inputs.
  int task_index_ = 0;
  char policy_spec_[512] = {};
  int seed_ = 0;
  bool realtime_ = false;
  float latency_ms_ = -1;  // < 0: measured
  float speed_ = 1;
  bool max_speed_ = false;

  // Timeline.
  bool follow_ = true;  // show the newest step
  int scrub_ = 0;

  // Record and replay.
  std::vector<std::string> screenshots_;  // PNGs to write after the next render
  std::string screenshot_error_;  // the last failed screenshot, for the headless check
  std::future<std::string> recording_;  // the finished recording's message
  std::string message_;
  char eval_dir_[512] = {};
  std::vector<EpisodeRecord> eval_episodes_;
  char dataset_path_[512] = {};
  int dataset_episode_ = 0;
  int dataset_episodes_ = 0;
};

}  // namespace padbench::viewer
