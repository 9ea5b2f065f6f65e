"""Settings a team's repository relies on, read without running anything."""

from __future__ import annotations

import pytest
from invoke import Config

from lambda_gate import config
from lambda_gate.errors import ConfigError
from lambda_gate.publish import local_backend
from lambda_gate.settings import Settings
from lambda_gate.tasks import ns


def settings(tmp_path, environment: str, **env) -> Settings:
    cfg = Config(defaults=ns.configuration(),
                 overrides={"lambda_gate": {"environments": {environment: env}}})
    return config.load(cfg, root=tmp_path, environment=environment)


def test_an_environment_may_run_a_terraform_directory_of_its_own(tmp_path):
    assert settings(tmp_path, "prod", terraform_dir="infra/prod").terraform.dir == (
        tmp_path / "infra" / "prod")
    assert settings(tmp_path, "dev").terraform.dir == tmp_path / "terraform"


def test_records_url_must_name_an_s3_bucket(tmp_path):
    assert settings(tmp_path, "ci", records_url="s3://team/records/").environment.records_url

    with pytest.raises(ConfigError, match=r"records_url is 'team/records': write it as "
                                          r"s3://BUCKET/PREFIX/"):
        settings(tmp_path, "ci", records_url="team/records")


def test_the_local_copy_overrides_the_backend_and_follows_the_configuration(tmp_path):
    source = tmp_path / "terraform"
    source.mkdir()
    (source / "main.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    (source / "old.tf").write_text("# gone soon\n")
    copy = tmp_path / "copy"

    local_backend.prepare(source, copy)
    (source / "old.tf").unlink()
    (copy / ".terraform.lock.hcl").write_text("# written by init in the copy\n")
    local_backend.prepare(source, copy)

    assert local_backend.needs_override(source, local_state=True)
    assert not local_backend.needs_override(source, local_state=False)
    assert sorted(p.name for p in copy.iterdir()) == [
        ".terraform.lock.hcl", local_backend.OVERRIDE, "main.tf"]
    assert 'backend "local"' in (copy / local_backend.OVERRIDE).read_text()
    assert sorted(p.name for p in source.iterdir()) == ["main.tf"]
