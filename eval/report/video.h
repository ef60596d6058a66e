// MP4 videos of an episode: the real frame beside the policy's predicted frames, with a caption.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/types.h"

namespace padbench {

// Layout and encoding of a video; the layout is fixed here so every frame has the same size.
struct VideoConfig {
  int frame_height = 64;  // size every real frame must have
  int frame_width = 64;
  int scale = 4;          // integer nearest-neighbour upscaling, so 64x64 frames are watchable
  int max_predicted = 3;  // prediction slots right of the real frame; unused slots are grey
  int caption_lines = 2;  // text lines in the strip below the frames ('\n' separates them)
  int scene_height = 0;   // when > 0, a scene panel of this size (not scaled) left of the real frame
  int scene_width = 0;
  double fps = 10;
};

// Writes composed frames to an mp4 file: H.264 ('avc1') when the OpenCV build can encode it,
// else MPEG-4 Part 2 ('mp4v'). Opening happens in the constructor, so a writer always owns an
// open file until Close; the destructor closes.
class VideoWriter {
 public:
  // Opens `path`; throws padbench::Error on a bad config or when neither codec can open the file.
  explicit VideoWriter(const std::string& path, const VideoConfig& config = {});
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Appends one frame: `real` (frame_height x frame_width, 1/3/4 channels, RGB order, labelled
  // "t (real)"), then each prediction of this frame labelled "predicted at t-h" (h: its horizon,
  // so the prediction was made h steps earlier), in the order given,
  // then grey placeholders for unused slots; `caption` fills the strip below ('\n' breaks lines,
  // long lines are cut with "..."). Predicted frames of another size are resized (nearest) to the
  // real frame's size. `scene` (required exactly when the config has a scene panel) is drawn
  // first, labelled "scene". Throws padbench::Error when `real` or `scene` has the wrong size, an
  // image is empty, there are more than max_predicted predictions, or the writer is closed.
  void Add(const Image& real, const std::vector<std::pair<int, Image>>& predicted,
           const std::string& caption = "", const Image* scene = nullptr);
  // Finalises the file; further calls do nothing.
  void Close();

  // Frames written so far.
  int frames() const;
  // Size of each composed video frame in pixels (both even, as H.264's 4:2:0 needs).
  int width() const;
  int height() const;
  // The codec that opened: "avc1" or "mp4v".
  std::string fourcc() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace padbench
