"""Ship the top-level rules/ and reports/templates/ folders inside the wheel as package data."""

from setuptools import find_packages, setup

# Each data folder is a package of its own (setuptools warns about a folder it would import
# but not ship, rules/frameworks among them).
DATA = {
    "driftscan._rules": "rules",
    "driftscan._rules.frameworks": "rules/frameworks",
    "driftscan._templates": "reports/templates",
}

setup(
    packages=[*find_packages(include=["driftscan", "driftscan.*"]), *DATA],
    package_dir=DATA,
    package_data={
        "driftscan": ["py.typed"],
        "driftscan._rules": ["*.yaml", "*.yml", "README.md"],
        "driftscan._rules.frameworks": ["*.yaml"],
        "driftscan._templates": ["*.j2", "*.html", "*.css"],
    },
)
