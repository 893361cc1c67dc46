"""The downstream classifier families of the evaluation and their scores."""

from __future__ import annotations

from napari_cinn_training.evaluate.data import EvaluationError

#: the classifier families there are
KINDS = ("rf", "lda", "logreg")
#: those the harness trains by default (the first one given is the headline)
CLASSIFIERS = ("rf", "lda")


def make_classifier(kind: str, seed: int):
    """An unfitted scikit-learn classifier of family ``kind`` (``seed`` for the random forest)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "rf":
        return RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, n_jobs=1, random_state=seed
        )
    if kind == "lda":  # Gaussian classes with a shared covariance: linear, closed form, fast
        return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500, tol=1e-3))
    raise EvaluationError(f"unknown classifier {kind!r}; use {', '.join(KINDS)}")


def score(clf, x_test, y_test, classes) -> dict[str, float]:
    """Balanced accuracy, macro F1 and (two classes) AUROC of a fitted classifier."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

    pred = clf.predict(x_test)
    out = {
        "bacc": float(balanced_accuracy_score(y_test, pred)),
        "f1": float(f1_score(y_test, pred, average="macro", labels=classes)),
    }
    if classes.size == 2:
        proba = clf.predict_proba(x_test)
        col = list(clf.classes_).index(classes[1]) if classes[1] in clf.classes_ else None
        out["auroc"] = (
            float(roc_auc_score(y_test == classes[1], proba[:, col])) if col is not None else 0.5
        )
    return out
