// PNG files and simple image composition (contact sheets, side-by-side views).
#pragma once

#include <string>
#include <vector>

#include "sim/types.h"

namespace padbench {

// Writes an RGB image as PNG; throws padbench::Error when it cannot.
void WritePng(const std::string& path, const Image& rgb);
// Reads a PNG as RGB.
Image ReadPng(const std::string& path);
// Lays images out in a grid, `columns` wide, with `gap` pixels of white between them.
// All images must have the same size.
Image Tile(const std::vector<Image>& images, int columns, int gap = 2);
// Resizes with area averaging (down) or bilinear (up).
Image Resize(const Image& rgb, int height, int width);
// Writes `text` onto the image at (x, y) (top-left of the text), in black on white.
void Label(Image& rgb, const std::string& text, int x, int y, double scale = 0.4);

}  // namespace padbench
