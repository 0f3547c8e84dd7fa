#!/usr/bin/env python3
"""End-to-end tests of the couchestor binary's global behaviour: help,
version, the config command, and exit status 2 with a precise message for a
bad flag, environment variable or config file line."""
import json
import os
import subprocess
import tempfile
import unittest

BINARY = os.environ.get("CS_BINARY", "couchestor")
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("KUBECONFIG", "LOG_LEVEL", "DRY_RUN", "PROMETHEUS_URL", "COUCHESTOR_CONFIG")}


def run(*args, env=None):
    e = dict(CLEAN_ENV)
    if env:
        e.update(env)
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=e, timeout=30)


class Cli(unittest.TestCase):
    def test_help_lists_commands(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("Usage: couchestor COMMAND", r.stdout)
        self.assertIn("config", r.stdout)

    def test_no_command_is_a_usage_error(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("Usage:", r.stderr)

    def test_unknown_command(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown command "frobnicate"', r.stderr)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^couchestor \d+\.\d+\.\d+\n$")

    def test_config_shows_values_and_sources(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("max_concurrent_migrations: 5\ndry_run: true\n")
        try:
            r = run("config", "--json", "--config", f.name, "--log-level=debug",
                    env={"MAX_CONCURRENT_MIGRATIONS": "7"})
            self.assertEqual(r.returncode, 0, r.stderr)
            cfg = json.loads(r.stdout)
            self.assertEqual(cfg["max_concurrent_migrations"],
                             {"value": 7, "source": "environment variable MAX_CONCURRENT_MIGRATIONS"})
            self.assertEqual(cfg["dry_run"], {"value": True, "source": f"config file {f.name}:2"})
            self.assertEqual(cfg["log_level"], {"value": "debug", "source": "flag --log-level"})
            self.assertEqual(cfg["preservation_mode"], {"value": False, "source": "default"})
            text = run("config").stdout
            self.assertRegex(text, r"prometheus_url\s+http://prometheus.monitoring.svc.cluster.local:9090\s+# default")
        finally:
            os.unlink(f.name)

    def test_config_help_lists_every_flag(self):
        r = run("config", "--help")
        self.assertEqual(r.returncode, 0)
        for flag in ("--prometheus-url", "--max-concurrent-migrations", "--dry-run", "--preservation-mode",
                     "--log-level", "--metrics-addr", "--health-addr", "--mayastor-url", "--kubeconfig",
                     "--leader-election", "--lease-name", "--config"):
            self.assertIn(flag, r.stdout)

    def test_bad_flag_exits_2(self):
        r = run("config", "--max-concurrent-migrations=lots")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip(), 'couchestor config: flag --max-concurrent-migrations: '
                         'invalid max_concurrent_migrations "lots": is not an integer')
        r = run("config", "--no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown flag --no-such-flag", r.stderr)

    def test_bad_environment_variable_exits_2(self):
        r = run("config", env={"DRY_RUN": "perhaps"})
        self.assertEqual(r.returncode, 2)
        self.assertIn('environment variable DRY_RUN: invalid dry_run "perhaps": is not a boolean', r.stderr)

    def test_bad_config_line_exits_2(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("dry_run: true\n\nmetrics_addr: nowhere\n")
        try:
            r = run("config", "--config", f.name)
            self.assertEqual(r.returncode, 2)
            self.assertIn(f'config file {f.name}:3: invalid metrics_addr "nowhere": must be host:port', r.stderr)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
