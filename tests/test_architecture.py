"""Layering rules of shared/DESIGN.md section 4, checked on the source."""

import ast

from tests.conftest import ROOT


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_physical_never_imports_twin_or_scenarios():
    offenders = [
        (path.name, name)
        for path in (ROOT / "physical").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in {"twin", "scenarios"}
    ]
    assert offenders == []


def test_physical_and_twin_models_do_not_use_the_global_rng():
    for folder in ("physical", "twin"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert "np.random.seed" not in text and "import random" not in text, path
            assert "np.random.rand" not in text and "np.random.normal" not in text, path


#: what only the physical world may touch: the true channel processes and the world's state
TRUTH_MODULES = {"physical.world"}
TRUTH_NAMES = {"ChannelModel", "World", "true_channels", "NakagamiFading", "PhaseRandomWalk", "GaussMarkov",
               "Weather", "WeatherTrace", "QkdNetwork"}


def test_the_twin_never_touches_the_true_channels():
    # the twin decides on its reports and its own models (gain formulas, orbit, flight plan): it may
    # import pure model functions from physical/, never the world or the channel processes
    offenders = []
    for path in (ROOT / "twin").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in TRUTH_MODULES:
                offenders.append((path.name, node.module))
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("physical"):
                offenders += [(path.name, alias.name) for alias in node.names if alias.name in TRUTH_NAMES]
            if isinstance(node, (ast.Name, ast.Attribute)):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if name in TRUTH_NAMES:
                    offenders.append((path.name, name))
    assert offenders == []


# -- layering (shared/DESIGN.md section 4): common < physical < twin < scenarios/sweeps < CLI ---------
PROJECT_PACKAGES = {"common", "physical", "twin", "scenarios", "eventlog", "studies", "sweeps", "sagin_twin", "bench", "environment"}


def _project_imports(folder):
    """(file, top-level project package) for every import of a project package under ``folder``."""
    return [(str(path.relative_to(ROOT)), name.split(".")[0])
            for path in (ROOT / folder).rglob("*.py")
            for name in _imports(path)
            if name.split(".")[0] in PROJECT_PACKAGES]


def test_common_imports_nothing_of_the_project():
    assert [(f, p) for f, p in _project_imports("common") if p != "common"] == []


def test_physical_imports_only_common():
    assert [(f, p) for f, p in _project_imports("physical") if p not in {"common", "physical"}] == []


def test_nothing_below_the_command_line_imports_it():
    offenders = [(f, p) for folder in ("common", "physical", "twin", "scenarios", "eventlog", "studies", "sweeps", "environment")
                 for f, p in _project_imports(folder) if p == "sagin_twin"]
    assert offenders == []


def test_solvers_do_not_use_simpy():
    # precoders and the QKD planner take arrays and dataclasses and return decisions: no simulated time inside
    offenders = [(str(path.relative_to(ROOT)), name)
                 for folder in ("twin/precoding", "twin/qkd")
                 for path in (ROOT / folder).rglob("*.py")
                 for name in _imports(path) if name.split(".")[0] == "simpy"]
    assert offenders == []


def test_the_version_is_declared_once_in_code_and_matches_pyproject():
    import tomllib

    from common import __version__

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == __version__


def test_only_the_environment_and_the_command_line_import_the_environment():
    offenders = [(f, p) for folder in ("common", "physical", "twin", "scenarios", "eventlog", "studies", "sweeps")
                 for f, p in _project_imports(folder) if p == "environment"]
    assert offenders == []


def test_the_core_install_never_imports_torch():
    # torch comes with the optional [train] extra: only environment/train.py may import it, and nothing imports that
    # module but the train and evaluate commands (inside their functions)
    offenders = [(str(path.relative_to(ROOT)), name) for folder in ("common", "physical", "twin", "scenarios", "eventlog",
                                                                    "studies", "sweeps", "environment")
                 for path in (ROOT / folder).rglob("*.py") if path.name != "train.py"
                 for name in _imports(path) if name.split(".")[0] in {"torch", "skrl"} or name == "environment.train"]
    assert offenders == []
