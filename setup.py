"""Ship the top-level rules/ and reports/templates/ folders inside the wheel as package data."""

from setuptools import find_packages, setup

DATA = {"driftscan._rules": "rules", "driftscan._templates": "reports/templates"}

setup(
    packages=[*find_packages(include=["driftscan", "driftscan.*"]), *DATA],
    package_dir=DATA,
    package_data={
        "driftscan": ["py.typed"],
        "driftscan._rules": ["*.yaml", "*.yml", "frameworks/*.yaml", "README.md"],
        "driftscan._templates": ["*.j2", "*.html", "*.css"],
    },
)
