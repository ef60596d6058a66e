#include "eval/live/live.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>
#include <opencv2/videoio.hpp>

#include "eval/engine/rollout.h"
#include "policies/registry.h"
#include "sim/error.h"
#include "sim/rng.h"
#include "tasks/registry.h"
#include "tests/test_util.h"

namespace padbench {
namespace {

using Catch::Matchers::Contains;

// Syncs `view` until `done(view)` holds; fails the test after `seconds`.
void WaitFor(const LiveSession& session, LiveView& view, const std::function<bool(const LiveView&)>& done,
             double seconds = 60) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    session.Sync(&view);
    if (done(view)) return;
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL("timed out; session status: " << view.status << ", " << view.episode.steps.size() << " steps");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

LiveConfig Fast(const std::string& task, const std::string& policy) {
  LiveConfig c;
  c.task = task;
  c.policy = policy;
  c.seed = 7;
  return c;
}

// Predicts its own observation one and two steps ahead and reports three denoising samples:
// exercises the viewer's prediction and denoising paths without a trained model.
class PredictingPolicy final : public Policy {
 public:
  std::string_view Name() const override { return "predicting"; }
  void Reset(const EpisodeInfo&) override {}
  PolicyOutput Act(const Observation& obs) override {
    for (int k = 1; k <= 3; ++k) {
      if (callback_) callback_({k, 3, std::vector<Action>(4, Action{0.1f * k, 0, 0, 0}), {{2, obs.rgb.begin()->second, PredictionKind::kFuture, ""}}});
    }
    PolicyOutput out;
    out.actions.assign(4, Action{0.5f, 0.f, 0.f, 1.f});
    out.predicted = {{2, obs.rgb.begin()->second, PredictionKind::kFuture, ""}, {1, obs.rgb.begin()->second, PredictionKind::kFuture, ""}};
    return out;
  }
  void SetDenoiseCallback(DenoiseCallback callback) override { callback_ = std::move(callback); }

 private:
  DenoiseCallback callback_;
};

TEST_CASE("live: episodes are published step by step and match the engine's episode", "[live]") {
  LiveSession session(Fast("reach", "expert"));
  session.SetSpeed(0);
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return !v.finished.empty(); });
  const EpisodeRecord rec = view.finished.front();
  CHECK(rec.success);
  CHECK(rec.seed == EpisodeSeed(7, "reach", 0));
  // The episode view holds episode 0 or already the next one; find the finished one's steps via the record.
  REQUIRE(view.model);
  REQUIRE(view.error.empty());

  // The same episode through the engine directly gives the same outcome and length.
  auto renderer = Renderer::Create();
  auto policy = MakePolicy("expert");
  auto env = MakeTaskEnv(FindTask("reach"), *policy, renderer.get());
  const EpisodeRecord direct = RunEpisode(*env, *policy, {"expert", 0, rec.seed, {}}, true);
  CHECK(direct.success == rec.success);
  CHECK(direct.length == rec.length);

  // A one-off run of that episode ends paused with every step published, in order.
  session.RunEpisodeAgain("reach", "expert", 0, rec.seed);
  WaitFor(session, view, [&](const LiveView& v) { return v.episode.finished && v.paused && v.episode.seed == rec.seed; });
  const LiveEpisode& e = view.episode;
  REQUIRE(int(e.steps.size()) == rec.length + 1);
  for (size_t i = 0; i < e.steps.size(); ++i) CHECK(e.steps[i].step == int(i));
  CHECK(e.steps.back().success);
  CHECK_FALSE(e.steps.front().success);
  CHECK(e.steps[3].camera.height == 64);
  CHECK(e.steps[3].state.qpos.size() == size_t(view.model->nq));
  CHECK(int(e.acts.size()) == e.record.act_calls);
  CHECK(e.control_dt > 0);
  CHECK(e.instruction == rec.instruction);
}

TEST_CASE("live: paused sessions advance exactly one control step per Step", "[live]") {
  LiveSession session(Fast("drawer-open", "random"), /*paused=*/true);
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return v.episode.steps.size() == 1; });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  session.Sync(&view);
  CHECK(view.episode.steps.size() == 1);
  CHECK(view.paused);
  for (int i = 0; i < 3; ++i) session.Step();
  WaitFor(session, view, [](const LiveView& v) { return v.episode.steps.size() == 4; });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  session.Sync(&view);
  CHECK(view.episode.steps.size() == 4);
  // Restart: the same episode from step 0 (same seed, new id).
  const int64_t id = view.episode.id;
  const uint64_t seed = view.episode.seed;
  session.Restart();
  WaitFor(session, view, [&](const LiveView& v) { return v.episode.id != id && v.episode.steps.size() == 1; });
  CHECK(view.episode.seed == seed);
  // Play runs on.
  session.SetSpeed(0);
  session.Play();
  WaitFor(session, view, [](const LiveView& v) { return v.episode.steps.size() > 10; });
  CHECK_FALSE(view.paused);
}

TEST_CASE("live: predicted frames are scored when they arrive and denoising samples are kept", "[live]") {
  LiveConfig config = Fast("reach", "predicting");
  config.make_policy = [](const std::string&) { return std::make_unique<PredictingPolicy>(); };
  LiveSession session(config, /*paused=*/true);
  for (int i = 0; i < 6; ++i) session.Step();
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return v.episode.steps.size() == 7; });
  const LiveEpisode& e = view.episode;
  REQUIRE(e.acts.size() >= 2);
  CHECK(e.acts[0].step == 0);
  CHECK(e.acts[1].step == 4);  // chunks of four
  CHECK(e.acts[0].denoising.size() == 3);
  CHECK(e.acts[0].denoising[2].step == 3);
  CHECK(e.acts[0].predicted.size() == 2);
  CHECK(e.steps[0].predictions.empty());
  // Step 2 receives the act at step 0's horizon-2 frame; step 1 its horizon-1 frame.
  REQUIRE(e.steps[1].predictions.size() == 1);
  CHECK(e.steps[1].predictions[0].horizon == 1);
  REQUIRE(e.steps[2].predictions.size() == 1);
  CHECK(e.steps[2].predictions[0].horizon == 2);
  // The frame predicted is step 0's observation: its PSNR against a later frame is finite and below the cap.
  CHECK(e.steps[2].predictions[0].psnr > 5);
  CHECK(e.steps[2].predictions[0].psnr < 100);
}

TEST_CASE("live: the current goal is the newest goal made so far, kept between the Acts that make none", "[live]") {
  LiveEpisode e;
  auto act = [&](int step, std::vector<PredictedFrame> predicted) {
    LiveAct a;
    a.step = step;
    a.predicted = std::move(predicted);
    e.acts.push_back(std::move(a));
  };
  const PredictedFrame goal{12, Image(4, 4), PredictionKind::kGoal, ""};
  const PredictedFrame future{4, Image(4, 4), PredictionKind::kFuture, ""};
  act(0, {goal});
  act(4, {});
  act(8, {future});
  act(12, {future, goal});
  CHECK(CurrentGoal(e, 0).act == &e.acts[0]);
  CHECK(CurrentGoal(e, 11).act == &e.acts[0]);  // the Acts at 4 and 8 made no goal
  CHECK(CurrentGoal(e, 11).frame->horizon == 12);
  CHECK(CurrentGoal(e, 12).act == &e.acts[3]);
  CHECK(CurrentGoal(e, 12).frame == &e.acts[3].predicted[1]);
  CHECK(LatestPrediction(e, 7) == &e.acts[0]);
  CHECK(LatestPrediction(e, 9) == &e.acts[2]);
  LiveEpisode none;
  CHECK(CurrentGoal(none, 5).frame == nullptr);
  CHECK(LatestPrediction(none, 5) == nullptr);
}

TEST_CASE("live: a recorded action sequence replays to the same states", "[live]") {
  LiveSession session(Fast("push", "expert"), /*paused=*/true);
  session.SetSpeed(0);
  session.RunEpisodeAgain("push", "expert", 0, 11);
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return v.episode.finished && v.episode.seed == 11; });
  const LiveEpisode recorded = view.episode;
  REQUIRE(recorded.record.success);
  LiveReplay replay{recorded.task, recorded.seed, {}, "recorded#0"};
  for (size_t i = 1; i < recorded.steps.size(); ++i) replay.actions.push_back(recorded.steps[i].action);
  session.Replay(replay);
  WaitFor(session, view, [](const LiveView& v) { return v.episode.finished && v.episode.policy == "recorded#0"; });
  CHECK(view.episode.record.success);
  REQUIRE(view.episode.steps.size() == recorded.steps.size());
  CHECK(view.episode.steps.back().state.qpos == recorded.steps.back().state.qpos);
  CHECK(view.paused);
  CHECK_THROWS_AS(session.Replay(LiveReplay{"push", 1, {}, "empty"}), Error);
  // Play goes back to the configuration's run.
  session.Play();
  WaitFor(session, view, [](const LiveView& v) { return v.episode.policy == "expert" && !v.paused; });
}

TEST_CASE("live: bad input is a clear error, before or after the worker starts", "[live]") {
  CHECK_THROWS_WITH(LiveSession(Fast("fly", "expert")), Contains("unknown task 'fly'"));
  LiveSession session(Fast("reach", "pad=/nonexistent/checkpoint"));
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return !v.error.empty(); });
  CHECK_THAT(view.error, Contains("/nonexistent/checkpoint"));
  CHECK_THROWS_AS(session.Configure(Fast("fly", "expert")), Error);
  // The session recovers with a good configuration.
  session.SetSpeed(0);
  session.Configure(Fast("reach", "expert"));
  WaitFor(session, view, [](const LiveView& v) { return v.error.empty() && v.episode.steps.size() > 3; });
}

TEST_CASE("live: an episode is written as mp4 with the scene beside the policy's view", "[live][video]") {
  LiveConfig config = Fast("reach", "predicting");
  config.make_policy = [](const std::string&) { return std::make_unique<PredictingPolicy>(); };
  LiveSession session(config, /*paused=*/true);
  for (int i = 0; i < 9; ++i) session.Step();
  LiveView view;
  WaitFor(session, view, [](const LiveView& v) { return v.episode.steps.size() == 10; });
  testing::TempPath dir;
  std::filesystem::create_directories(dir.path());
  const std::string path = (dir.path() / "live.mp4").string();
  WriteLiveVideo(view.episode, view.model, FreeCamera{}, path, GlBackend::kAuto, 192);
  cv::VideoCapture capture(path);
  REQUIRE(capture.isOpened());
  CHECK(int(capture.get(cv::CAP_PROP_FRAME_WIDTH)) > 192 + 2 * 64);  // scene, real frame, one prediction slot
  int frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) ++frames;
  CHECK(frames == 10);
  CHECK_THROWS_AS(WriteLiveVideo(LiveEpisode{}, view.model, FreeCamera{}, path), Error);
}

}  // namespace
}  // namespace padbench
