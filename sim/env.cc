#include "sim/env.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "sim/error.h"

namespace padbench {

// ---- MuJoCo error and warning handlers ----
namespace {

// MuJoCo calls the error handler from C code and must not continue afterwards;
// throwing unwinds through MuJoCo's frames (built with unwind tables on Debian).
void ThrowMujocoError(const char* msg) { throw Error(fmt::format("MuJoCo error: {}", msg)); }

// The text of the last warning on this thread; Env reads it after each step.
thread_local std::string last_warning;
void RecordMujocoWarning(const char* msg) { last_warning = msg; }

constexpr const char* kWarningNames[mjNWARNING] = {
    "mjWARN_INERTIA", "mjWARN_CONTACTFULL", "mjWARN_CNSTRFULL", "mjWARN_VGEOMFULL",
    "mjWARN_BADQPOS", "mjWARN_BADQVEL",     "mjWARN_BADQACC",   "mjWARN_BADCTRL"};

std::string NamesOf(const mjModel& m, int type, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    const char* name = mj_id2name(&m, type, i);
    if (name && *name) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out.empty() ? "(none)" : out;
}

int IdOrThrow(const mjModel& m, int type, int count, const char* what, const std::string& name) {
  const int id = mj_name2id(&m, type, name.c_str());
  if (id < 0) {
    throw Error(fmt::format("unknown {} '{}'; the model has: {}", what, name, NamesOf(m, type, count)));
  }
  return id;
}

}  // namespace

void InstallMujocoHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_error = ThrowMujocoError;
    mju_user_warning = RecordMujocoWarning;
  });
}

ModelPtr LoadModel(const std::string& mjcf_path) {
  InstallMujocoHandlers();
  char error[1024] = "";
  mjModel* m = mj_loadXML(mjcf_path.c_str(), nullptr, error, sizeof(error));
  if (!m) throw Error(fmt::format("cannot load MJCF {}: {}", mjcf_path, error));
  return ModelPtr(m, [](const mjModel* p) { mj_deleteModel(const_cast<mjModel*>(p)); });
}

// ---- Env ----

std::unique_ptr<Env> Env::Create(ModelPtr model, const EnvConfig& config) {
  if (!model) throw Error("Env::Create: null model");
  if (config.frame_skip < 1) throw Error(fmt::format("frame_skip must be >= 1, got {}", config.frame_skip));
  InstallMujocoHandlers();
  return std::unique_ptr<Env>(new Env(std::move(model), config));
}

Env::Env(ModelPtr model, const EnvConfig& config) : model_(std::move(model)), config_(config) {
  const mjModel& m = *model_;
  const int mocap_body = IdOrThrow(m, mjOBJ_BODY, m.nbody, "body", "mocap");
  mocap_id_ = m.body_mocapid[mocap_body];
  if (mocap_id_ < 0) throw Error("body 'mocap' is not a mocap body (mocap=\"true\")");
  hand_body_ = IdOrThrow(m, mjOBJ_BODY, m.nbody, "body", "hand");
  ee_site_ = IdOrThrow(m, mjOBJ_SITE, m.nsite, "site", "ee");
  finger_l_qpos_ = m.jnt_qposadr[IdOrThrow(m, mjOBJ_JOINT, m.njnt, "joint", "finger_l")];
  finger_r_qpos_ = m.jnt_qposadr[IdOrThrow(m, mjOBJ_JOINT, m.njnt, "joint", "finger_r")];
  finger_l_act_ = IdOrThrow(m, mjOBJ_ACTUATOR, m.nu, "actuator", "finger_l");
  finger_r_act_ = IdOrThrow(m, mjOBJ_ACTUATOR, m.nu, "actuator", "finger_r");
  data_ = mj_makeData(&m);
  if (!data_) throw Error("mj_makeData failed (out of memory?)");
  Reset();
}

Env::~Env() {
  if (data_) mj_deleteData(data_);
}

void Env::Reset() {
  mj_resetData(model_.get(), data_);
  clipped_ = 0;
  steps_ = 0;
  diverged_ = false;
  warning_counts_.fill(0);
  warnings_.clear();
  mj_forward(model_.get(), data_);
}

void Env::Settle(int physics_steps) {
  mj_forward(model_.get(), data_);
  // Aim the mocap at the hand so the weld starts relaxed wherever the task put the arm.
  std::copy_n(data_->xpos + 3 * hand_body_, 3, data_->mocap_pos + 3 * mocap_id_);
  for (int i = 0; i < physics_steps; ++i) mj_step(model_.get(), data_);
  mj_forward(model_.get(), data_);
  CheckWarnings();
}

SimState Env::State() const {
  const mjModel& m = *model_;
  const mjData& d = *data_;
  SimState s;
  s.time = d.time;
  s.qpos.assign(d.qpos, d.qpos + m.nq);
  s.qvel.assign(d.qvel, d.qvel + m.nv);
  s.act.assign(d.act, d.act + m.na);
  s.ctrl.assign(d.ctrl, d.ctrl + m.nu);
  s.mocap_pos.assign(d.mocap_pos, d.mocap_pos + 3 * m.nmocap);
  s.mocap_quat.assign(d.mocap_quat, d.mocap_quat + 4 * m.nmocap);
  s.qacc_warmstart.assign(d.qacc_warmstart, d.qacc_warmstart + m.nv);
  return s;
}

void Env::SetState(const SimState& s) {
  const mjModel& m = *model_;
  auto put = [](const std::vector<double>& from, mjtNum* to, int n, const char* what) {
    if (int(from.size()) != n) {
      throw Error(fmt::format("SetState: {} has {} values, the model needs {}", what, from.size(), n));
    }
    std::copy(from.begin(), from.end(), to);
  };
  put(s.qpos, data_->qpos, m.nq, "qpos");
  put(s.qvel, data_->qvel, m.nv, "qvel");
  put(s.act, data_->act, m.na, "act");
  put(s.ctrl, data_->ctrl, m.nu, "ctrl");
  put(s.mocap_pos, data_->mocap_pos, 3 * m.nmocap, "mocap_pos");
  put(s.mocap_quat, data_->mocap_quat, 4 * m.nmocap, "mocap_quat");
  put(s.qacc_warmstart, data_->qacc_warmstart, m.nv, "qacc_warmstart");
  data_->time = s.time;
  mj_forward(model_.get(), data_);
}

StepResult Env::Step(const Action& action) {
  StepResult result;
  std::array<double, 4> a;
  for (int i = 0; i < kActionDim; ++i) {
    const double v = action[i];
    if (!std::isfinite(v)) throw Error(fmt::format("non-finite action component {}: {}", i, v));
    a[i] = std::clamp(v, -1.0, 1.0);
    result.clipped |= a[i] != v;
  }
  clipped_ += result.clipped;

  mjtNum* target = data_->mocap_pos + 3 * mocap_id_;
  const mjtNum* hand = data_->xpos + 3 * hand_body_;
  mjtNum lead[3];
  for (int i = 0; i < 3; ++i) lead[i] = target[i] + config_.action_scale * a[i] - hand[i];
  const double norm = mju_norm3(lead);
  const double shrink = norm > config_.max_lead ? config_.max_lead / norm : 1.0;
  for (int i = 0; i < 3; ++i) {
    target[i] = std::clamp(hand[i] + shrink * lead[i], config_.ee_low[i], config_.ee_high[i]);
  }
  // Effort -1 opens fully, +1 closes: position targets between open and closed.
  const double finger_target = 0.5 * (1.0 - a[3]) * config_.finger_open;
  data_->ctrl[finger_l_act_] = finger_target;
  data_->ctrl[finger_r_act_] = finger_target;

  for (int i = 0; i < config_.frame_skip; ++i) mj_step(model_.get(), data_);
  ++steps_;
  CheckWarnings();

  const mjModel& m = *model_;
  bool finite = true;
  for (int i = 0; i < m.nq && finite; ++i) finite = std::isfinite(data_->qpos[i]);
  for (int i = 0; i < m.nv && finite; ++i) finite = std::isfinite(data_->qvel[i]);
  if (!finite || data_->warning[mjWARN_BADQACC].number > 0 || data_->warning[mjWARN_BADQPOS].number > 0 ||
      data_->warning[mjWARN_BADQVEL].number > 0) {
    diverged_ = true;
  }
  if (diverged_) {
    result.status = StepStatus::kDiverged;
    result.message = finite ? (warnings_.empty() ? "physics diverged" : warnings_.back())
                            : "physics diverged: non-finite state";
  }
  return result;
}

void Env::CheckWarnings() {
  for (int i = 0; i < mjNWARNING; ++i) {
    const int n = data_->warning[i].number;
    if (n > warning_counts_[i]) {
      warning_counts_[i] = n;
      warnings_.push_back(fmt::format("{} at step {}: {}", kWarningNames[i], steps_, last_warning));
    }
  }
}

std::array<double, 3> Env::EePos() const { return SitePos(ee_site_); }

double Env::GripperOpening() const { return data_->qpos[finger_l_qpos_] + data_->qpos[finger_r_qpos_]; }

double Env::GripperEffort() const { return 1.0 - 2.0 * data_->ctrl[finger_l_act_] / config_.finger_open; }

double Env::ControlPeriod() const { return model_->opt.timestep * config_.frame_skip; }

int Env::BodyId(const std::string& name) const { return IdOrThrow(*model_, mjOBJ_BODY, model_->nbody, "body", name); }
int Env::JointId(const std::string& name) const { return IdOrThrow(*model_, mjOBJ_JOINT, model_->njnt, "joint", name); }
int Env::SiteId(const std::string& name) const { return IdOrThrow(*model_, mjOBJ_SITE, model_->nsite, "site", name); }
int Env::GeomId(const std::string& name) const { return IdOrThrow(*model_, mjOBJ_GEOM, model_->ngeom, "geom", name); }
int Env::CameraId(const std::string& name) const {
  return IdOrThrow(*model_, mjOBJ_CAMERA, model_->ncam, "camera", name);
}

std::vector<std::string> Env::CameraNames() const {
  std::vector<std::string> names;
  for (int i = 0; i < model_->ncam; ++i) names.emplace_back(mj_id2name(model_.get(), mjOBJ_CAMERA, i));
  return names;
}

std::array<double, 3> Env::BodyPos(int body) const {
  const mjtNum* p = data_->xpos + 3 * body;
  return {p[0], p[1], p[2]};
}

std::array<double, 3> Env::SitePos(int site) const {
  const mjtNum* p = data_->site_xpos + 3 * site;
  return {p[0], p[1], p[2]};
}

std::array<double, 3> Env::GeomPos(int geom) const {
  const mjtNum* p = data_->geom_xpos + 3 * geom;
  return {p[0], p[1], p[2]};
}

double Env::JointQpos(int joint) const { return data_->qpos[model_->jnt_qposadr[joint]]; }

void Env::SetJointQpos(int joint, double value) {
  data_->qpos[model_->jnt_qposadr[joint]] = value;
  data_->qvel[model_->jnt_dofadr[joint]] = 0;
}

void Env::SetFreeJointPose(int joint, const std::array<double, 3>& pos, const std::array<double, 4>* quat) {
  PADBENCH_CHECK(model_->jnt_type[joint] == mjJNT_FREE, "joint is not free");
  mjtNum* q = data_->qpos + model_->jnt_qposadr[joint];
  std::copy(pos.begin(), pos.end(), q);
  if (quat) std::copy(quat->begin(), quat->end(), q + 3);
  std::fill_n(data_->qvel + model_->jnt_dofadr[joint], 6, 0.0);
}

void Env::SetMocapPos(int body, const std::array<double, 3>& pos) {
  const int id = model_->body_mocapid[body];
  if (id < 0) throw Error(fmt::format("body '{}' is not a mocap body", mj_id2name(model_.get(), mjOBJ_BODY, body)));
  std::copy(pos.begin(), pos.end(), data_->mocap_pos + 3 * id);
}

}  // namespace padbench
