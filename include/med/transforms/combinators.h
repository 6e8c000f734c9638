// MONAI's random compositions: OneOf, SomeOf, RandomOrder. They run their children eagerly (a
// fusion barrier in compiled pipelines); which children run, in which order, and every child's
// random parameters are drawn from the call's stream, so a RandomKey reproduces the result.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include <torch/arg.h>

#include "med/transforms/transform.h"

namespace med::transforms {

/// Shared by the combinators: children, their per-call parameter layout and how they run.
class RandomComposition : public RandomTransform {
public:
  bool traceable() const override { return false; }
  void trace(frontend::ChainSpec &chain) const override;
  int numParams() const override;
  using RandomTransform::eager;

protected:
  explicit RandomComposition(std::vector<Step> children);
  /// Parameters that say which children run and in which order (before the children's own).
  virtual int choiceParams() const = 0;
  /// Draws every random child's parameters (each from its own sub-stream, whether or not it
  /// runs, so the layout is fixed).
  void sampleChildren(const rt::Rng &rng, std::vector<double> &params) const;
  /// Runs child `i` with its slice of `params`.
  MetaTensor runChild(size_t i, const MetaTensor &img, const double *params) const;
  std::vector<std::shared_ptr<const Transform>> children_;
  std::vector<int> offsets_; ///< where each child's parameters start (after the choice)
};

/// MONAI OneOf: runs one child, chosen with probability proportional to `weights` (default
/// uniform).
///
///   OneOf({Flip(FlipOptions().spatial_axis({0})), Rotate90()})
class OneOf : public RandomComposition {
public:
  explicit OneOf(std::vector<Step> children, std::vector<double> weights = {});
  std::string name() const override { return "OneOf"; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  int choiceParams() const override { return 1; }
  std::vector<double> weights_;
};

/// MONAI SomeOf: runs `num_transforms` children (a fixed count, or drawn uniformly from
/// [min, max]) chosen with or without replacement, in the order drawn.
///
///   SomeOf({ShiftIntensity(...), ScaleIntensity(...), Flip(...)}, {1, 2})
class SomeOf : public RandomComposition {
public:
  SomeOf(std::vector<Step> children, std::pair<int, int> num_transforms, bool replace = false,
         std::vector<double> weights = {});
  std::string name() const override { return "SomeOf"; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  /// Count, then one slot per possible pick.
  int choiceParams() const override { return 1 + maxPicks(); }
  int maxPicks() const { return numTransforms_.second; }
  std::pair<int, int> numTransforms_;
  bool replace_;
  std::vector<double> weights_;
};

/// MONAI RandomOrder: runs every child once, in a uniformly drawn order.
///
///   RandomOrder({ShiftIntensity(...), Flip(...)})
class RandomOrder : public RandomComposition {
public:
  explicit RandomOrder(std::vector<Step> children);
  std::string name() const override { return "RandomOrder"; }
  void sample(rt::Rng &rng, std::vector<double> &params) const override;
  MetaTensor eager(const MetaTensor &img, const double *params) const override;

private:
  int choiceParams() const override { return static_cast<int>(children_.size()); }
};

} // namespace med::transforms
