/// plot: pictures of predictions, drawn by gnuplot (report layer: the only code that draws).
#pragma once

#include <span>
#include <string>

#include "roofline/calibrate.hpp"

namespace roofline {

/// Writes an SVG (a PNG if the path ends in .png) of three panels: predicted against measured time (log-log, a colour per
/// model, the line y = x), and TTFT and decode step time against prefill length at batch
/// `batch`: measured points, predicted lines. Runs gnuplot; throws input_error naming
/// `svg_path` if it cannot.
void plot_validation(std::span<const sample> samples, std::span<const prediction> predicted, std::int64_t batch,
                     const std::string& svg_path);

}  // namespace roofline
