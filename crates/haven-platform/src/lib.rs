//! Haven+ platform layer: config, component catalogue, renderer, validator
