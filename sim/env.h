// Env: one episode's physics on a shared, immutable MuJoCo model.
//
// The robot convention (shared by every task, see assets/common/robot.xml):
// a mocap body "mocap" welded to the body "hand"; the end-effector site "ee"
// between the fingertips; finger slide joints "finger_l"/"finger_r" driven by
// position actuators "finger_l"/"finger_r". Actions move the mocap target by
// action * action_scale per control step and set the finger targets.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "sim/types.h"

namespace padbench {

using ModelPtr = std::shared_ptr<const mjModel>;

// Compiles an MJCF file; errors (with MuJoCo's message and the path) become padbench::Error.
ModelPtr LoadModel(const std::string& mjcf_path);

// Routes MuJoCo's error callback to padbench::Error and its warnings to a log
// (instead of MuJoCo's default, which waits for Enter). Idempotent, thread-safe.
void InstallMujocoHandlers();

struct EnvConfig {
  int frame_skip = 10;                                // physics steps per control step
  double action_scale = 0.01;                         // metres of mocap motion per unit action
  std::array<double, 3> ee_low{-0.4, 0.15, 0.0};      // mocap target bounds (m)
  std::array<double, 3> ee_high{0.4, 0.85, 0.35};
  double finger_open = 0.04;                          // finger joint target at effort -1 (m)
  // The target may run at most this far ahead of the hand: pushing against a
  // stop (a closed drawer, a pressed button) then holds a bounded force instead
  // of winding the weld up without limit.
  double max_lead = 0.05;
};

// The state needed to draw (or resume) an episode at one instant: positions,
// velocities, actuator state, the mocap bodies (goal markers, the hand target) and the
// solver's warm start (without it, stepping on from a copied state differs in the last bits).
struct SimState {
  double time = 0;
  std::vector<double> qpos, qvel, act, ctrl, mocap_pos, mocap_quat, qacc_warmstart;
};

enum class StepStatus { kOk, kDiverged };

struct StepResult {
  StepStatus status = StepStatus::kOk;
  std::string message;  // why, when diverged
  bool clipped = false;  // the action had a component outside [-1, 1]
};

class Env {
 public:
  // Validates that the model follows the robot convention; throws padbench::Error naming what is missing.
  static std::unique_ptr<Env> Create(ModelPtr model, const EnvConfig& config = {});
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // Resets physics to the model's initial state (no allocation); tasks then randomise.
  void Reset();
  // Recomputes derived quantities after a task edited qpos/mocap (mj_forward) and
  // re-targets the mocap on the hand so the weld starts relaxed.
  void Settle(int physics_steps = 0);
  // Applies one control step. Out-of-range components are clipped and counted.
  StepResult Step(const Action& action);

  const mjModel& model() const { return *model_; }
  const ModelPtr& model_ptr() const { return model_; }
  const mjData& data() const { return *data_; }
  mjData& mutable_data() { return *data_; }
  const EnvConfig& config() const { return config_; }

  // Copies the current state out; SetState puts one back (same model) and recomputes
  // derived quantities (mj_forward). Throws padbench::Error when the sizes do not match.
  SimState State() const;
  void SetState(const SimState& state);

  std::array<double, 3> EePos() const;
  double GripperOpening() const;  // distance between finger joints' travel (m)
  // The gripper effort (Action[3]) the finger targets hold now: what repeats the last command.
  double GripperEffort() const;
  // Simulated seconds per control step (frame_skip physics steps).
  double ControlPeriod() const;
  int clipped_actions() const { return clipped_; }
  int steps() const { return steps_; }
  bool diverged() const { return diverged_; }
  // MuJoCo warnings raised during this episode, in order ("mjWARN_...: message").
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Named lookups; throw padbench::Error listing what exists when the name is unknown.
  int BodyId(const std::string& name) const;
  int JointId(const std::string& name) const;
  int SiteId(const std::string& name) const;
  int GeomId(const std::string& name) const;
  int CameraId(const std::string& name) const;
  std::vector<std::string> CameraNames() const;

  // Pose helpers for tasks.
  std::array<double, 3> BodyPos(int body) const;
  std::array<double, 3> SitePos(int site) const;
  std::array<double, 3> GeomPos(int geom) const;
  double JointQpos(int joint) const;
  void SetJointQpos(int joint, double value);
  // Sets a free joint's position (keeps orientation unless quat is given).
  void SetFreeJointPose(int joint, const std::array<double, 3>& pos,
                        const std::array<double, 4>* quat = nullptr);
  // Places a mocap body (goal markers and randomised fixtures are mocap bodies,
  // because body positions in the shared model are immutable).
  void SetMocapPos(int body, const std::array<double, 3>& pos);

 private:
  Env(ModelPtr model, const EnvConfig& config);
  void CheckWarnings();

  ModelPtr model_;
  EnvConfig config_;
  mjData* data_ = nullptr;
  int mocap_id_ = -1, hand_body_ = -1, ee_site_ = -1;
  int finger_l_qpos_ = -1, finger_r_qpos_ = -1, finger_l_act_ = -1, finger_r_act_ = -1;
  int clipped_ = 0, steps_ = 0;
  bool diverged_ = false;
  std::array<int, mjNWARNING> warning_counts_{};
  std::vector<std::string> warnings_;
};

}  // namespace padbench
