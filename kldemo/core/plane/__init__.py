"""Two-dimensional Gaussian mixtures: densities, divergences and Gaussian fits.

The numbers for configs whose means are pairs: :mod:`.gaussians` (the array type, densities,
closed forms for two Gaussians), :mod:`.quadrature` (divergences of mixtures, in each
component's whitened polar coordinates), :mod:`.fits` (closed-form optima and exact
gradients of one Gaussian q), :mod:`.objective` (the divergence a fit descends, in q's mean
and log-Cholesky coordinates, with its Fisher metric), :mod:`.paths` (a fit keyframe's
descent path, :func:`plane_fit_path`) and :mod:`.optima` (every optimum, for the markers).
"""

from kldemo.core.plane.fits import (
    FAMILIES,
    GaussianGradient,
    forward_kl_gradient,
    moment_match,
    reverse_gaussian_optimum_for_gaussian,
    reverse_kl_gradient,
)
from kldemo.core.plane.gaussians import (
    PlaneMixture,
    density,
    gaussian_hellinger2,
    gaussian_kl,
    log_density,
)
from kldemo.core.plane.optima import (
    PlaneGaussian,
    PlaneOptima,
    plane_optima,
    plane_optima_of_states,
)
from kldemo.core.plane.paths import PlaneFitPath, plane_fit_path
from kldemo.core.plane.quadrature import (
    DIVERGENCES,
    divergence_values,
    forward_kl,
    hellinger_distance,
    js_divergence,
    kl_divergence,
    reverse_kl,
    tv_distance,
)

__all__ = [
    "DIVERGENCES",
    "FAMILIES",
    "GaussianGradient",
    "PlaneFitPath",
    "PlaneGaussian",
    "PlaneMixture",
    "PlaneOptima",
    "density",
    "divergence_values",
    "forward_kl",
    "forward_kl_gradient",
    "gaussian_hellinger2",
    "gaussian_kl",
    "hellinger_distance",
    "js_divergence",
    "kl_divergence",
    "log_density",
    "moment_match",
    "plane_fit_path",
    "plane_optima",
    "plane_optima_of_states",
    "reverse_gaussian_optimum_for_gaussian",
    "reverse_kl",
    "reverse_kl_gradient",
    "tv_distance",
]
