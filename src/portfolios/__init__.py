"""Model portfolios (All Weather, 60/40, Permanent, Risk Parity, user-defined) and following one."""

from src.portfolios.follow import MODEL_RISK_LIMITS, follow_model
from src.portfolios.model_catalogue import (
    MODELS_DIR,
    ModelFile,
    ModelPortfolio,
    Substitution,
    builtin_models,
    get_model,
    load_model_file,
    model_catalogue,
)

__all__ = ["MODEL_RISK_LIMITS", "MODELS_DIR", "ModelFile", "ModelPortfolio", "Substitution", "builtin_models",
           "follow_model", "get_model", "load_model_file", "model_catalogue"]
