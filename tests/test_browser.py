"""The run browser: its pages through a real HTTP client and a real headless Chromium, its access rule,
its filters and paging, and the static snapshot of ``--aml-browse``."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import pytest
import requests
from azureml.core import Experiment

from amlmock.web.access import COOKIE
from tests.browser_seed import seed_workspace
from tests.helpers import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("AMLMOCK_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")) / "browser"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1280,1400",
)
pytestmark = pytest.mark.aml_fake_only  # the browser shows the fake's state


@pytest.fixture
def seeded(aml, aml_workspace, tmp_path):
    return seed_workspace(aml_workspace, tmp_path)


@pytest.fixture
def session(aml):
    """A client that opened the browser URL once (so it holds the cookie)."""
    client = requests.Session()
    assert client.get(aml.browser_url).status_code == 200
    return client


def run_list_url(aml, experiment="browser-demo"):
    return f"{aml.server_url}/browse/{aml.workspace().subscription_id}/{aml.workspace().resource_group}/{aml.workspace().name}/experiments/{experiment}"


def run_title(run):
    """How the browser names an SDK run: display name, else id."""
    return run.display_name or run.id


def listed_runs(html):
    return re.findall(r'class="run">([^<]+)</a>', html)


def test_pages_need_the_browser_token(aml, aml_workspace):
    assert requests.get(aml.server_url + "/").status_code == 403
    assert requests.get(aml.server_url + "/?token=wrong").status_code == 403
    assert requests.get(aml.server_url + "/", cookies={COOKIE: "wrong"}).status_code == 403
    opened = requests.get(aml.browser_url)
    assert opened.status_code == 200 and COOKIE in opened.cookies
    assert requests.get(aml.server_url + "/", cookies={COOKIE: opened.cookies[COOKIE]}).status_code == 200


def test_pages_never_change_state(aml, aml_workspace, session):
    assert session.post(aml.server_url + "/").status_code == 404  # only GET is routed
    assert session.get(run_list_url(aml, "no-such-experiment")).status_code == 404
    assert [e.name for e in Experiment.list(aml_workspace)] == []


def test_run_list_filters_as_get_runs_does(aml, aml_workspace, session, tmp_path):
    ids = seed_workspace(aml_workspace, tmp_path)
    experiment = Experiment(aml_workspace, "browser-demo")
    for field, value, sdk in (
        ("tag", "model=resnet", {"tags": {"model": "resnet"}}),
        ("tag", "model", {"tags": "model"}),
        ("property", "dataset=cifar10", {"properties": {"dataset": "cifar10"}}),
    ):
        html = session.get(run_list_url(aml), params={field: value, "children": "1"}).text
        expected = {run_title(r) for r in experiment.get_runs(include_children=True, **sdk)}
        assert set(listed_runs(html)) == expected and expected, (field, value)
    failed = listed_runs(session.get(run_list_url(aml), params={"status": "Failed", "tag": "model"}).text)
    assert failed == [run_title(aml_workspace.get_run(ids["plain"]))]
    top_level = {run_title(r) for r in experiment.get_runs(include_children=False)}
    assert set(listed_runs(session.get(run_list_url(aml)).text)) == top_level and len(top_level) == 3


def test_a_bad_filter_is_reported_not_a_500(aml, aml_workspace, session):
    Experiment(aml_workspace, "browser-demo").start_logging(snapshot_directory=None).complete()
    reply = session.get(run_list_url(aml), params={"tag": "x=)("})
    assert reply.status_code == 200 and 'class="error"' in reply.text


def test_run_list_is_paged(aml, aml_workspace, session):
    experiment = Experiment(aml_workspace, "browser-demo")
    made = {experiment.start_logging(snapshot_directory=None).id for _ in range(55)}
    first = session.get(run_list_url(aml)).text
    link = re.search(r'href="([^"]+)" class="next"', first)
    assert len(listed_runs(first)) == 50 and link
    second = session.get(aml.server_url + link.group(1).replace("&amp;", "&")).text
    assert set(listed_runs(first)) | set(listed_runs(second)) == made and 'class="next"' not in second


def test_run_page_shows_history_children_metrics_files_and_models(aml, aml_workspace, seeded, session):
    parent = aml_workspace.get_run(seeded["parent"])
    parent.register_model("resnet", model_path="outputs/notes.txt", tags={"stage": "dev"})
    page_url = run_list_url(aml).split("/experiments/")[0] + "/runs/" + seeded["parent"]
    html = session.get(page_url).text
    assert html.count('class="child"') == 3 and "Completed" in html
    assert '<svg class="chart"' in html and 'aria-label="loss"' in html  # the series, as a chart
    assert "<td>learning_rate</td><td>0.01</td>" in html  # the scalar, as a value
    assert "<td>dog</td><td>0.88</td>" in html and "<td>2</td>" in html  # the table and the rows
    image = re.search(r'<img class="metric" alt="predictions" src="([^"]+)"', html)
    assert session.get(aml.server_url + image.group(1)).content.startswith(b"\x89PNG")
    notes = re.search(r'href="([^"]+notes.txt)"', html).group(1)
    assert session.get(aml.server_url + notes).content == b"trained for 40 steps\n"
    assert "<td>resnet</td><td>1</td>" in html and 'id="mlflow-params"' in html


def test_a_running_runs_page_refreshes(aml, aml_workspace, session):
    run = Experiment(aml_workspace, "browser-demo").start_logging(snapshot_directory=None)
    page_url = run_list_url(aml).split("/experiments/")[0] + "/runs/" + run.id
    assert 'http-equiv="refresh"' in session.get(page_url).text
    run.complete()
    assert 'http-equiv="refresh"' not in session.get(page_url).text


@pytest.fixture
def chromium():
    if not os.path.exists(CHROMIUM) or not os.path.exists(CHROMEDRIVER):
        pytest.skip(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): .ci/run installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="amlmock-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def screenshot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_a_browser_follows_a_run_to_its_chart_children_and_log(aml, seeded, chromium):
    from selenium.webdriver.common.by import By

    chromium.get(aml.browser_url)
    chromium.find_element(By.LINK_TEXT, aml.workspace().name).click()
    chromium.find_element(By.LINK_TEXT, "browser-demo").click()
    runs = [link.text for link in chromium.find_elements(By.CSS_SELECTOR, "a.run")]
    assert "train-resnet" in runs and seeded["submitted"] in runs
    screenshot(chromium, "run-list")
    chromium.find_element(By.LINK_TEXT, "train-resnet").click()
    chart = chromium.find_element(By.CSS_SELECTOR, "svg.chart[aria-label=loss] polyline")
    assert len(chart.get_attribute("points").split()) == 40
    assert [a.text for a in chromium.find_elements(By.CSS_SELECTOR, "ul.tree a.child")] == ["fold-0", "fold-1", "fold-2"]
    assert chromium.execute_script("return document.querySelector('img.metric').naturalWidth") > 0
    screenshot(chromium, "run-page")
    chromium.back()
    chromium.find_element(By.LINK_TEXT, seeded["submitted"]).click()
    log = chromium.find_element(By.ID, "driver-log").text
    assert "made 7 children" in log
    assert len(chromium.find_elements(By.CSS_SELECTOR, "ul.tree a.child")) == 7
    screenshot(chromium, "submitted-run")


def test_aml_browse_writes_a_failed_tests_state_as_static_pages(pytester):
    pytester.makepyfile(
        """
        from azureml.core import Experiment

        def test_fails(aml_workspace):
            run = Experiment(aml_workspace, "snap").start_logging(snapshot_directory=None, display_name="broken")
            run.log_list("loss", [3, 2, 1])
            run.fail()
            assert False

        def test_passes(aml_workspace):
            Experiment(aml_workspace, "snap").start_logging(snapshot_directory=None, display_name="fine").complete()
        """
    )
    result = pytester.runpytest_subprocess("--aml-browse", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["amlmock run browser of a failed test: *test_fails*index.html"])
    folders = list((pytester.path / "aml-browse").iterdir())
    assert [f.name for f in folders] == ["test_aml_browse_writes_a_failed_tests_state_as_static_pages.py_test_fails"]
    pages = {p.name: p.read_text() for p in folders[0].glob("*.html")}
    run_page = next(html for name, html in pages.items() if name.startswith("run-"))
    assert "broken" in run_page and 'aria-label="loss"' in run_page and "Failed" in run_page
    assert 'http-equiv="refresh"' not in run_page and len(pages) == 4  # index, workspace, experiment, run


def test_serve_prints_the_browser_url_and_open_opens_it(tmp_path, monkeypatch):
    from tests.test_serve import Server

    opened = tmp_path / "opened.txt"
    opener = tmp_path / "opener.py"
    opener.write_text(f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {opener} %s")
    server = Server("--workspace", "ws1", "--resource-group", "rg1", "--open")
    try:
        assert server.process.stdout.readline().startswith("amlmock admin token: ")  # the second line; the browser's third
        line = server.process.stdout.readline().strip()
        assert line.startswith(f"amlmock run browser: {server.url}/?token=")
        url = line.rsplit(" ", 1)[1]
        assert requests.get(server.url + "/").status_code == 403
        assert "ws1" in requests.get(url).text
        assert wait_for(lambda: opened.exists() and opened.read_text() == url)
    finally:
        server.stop()


def test_hostile_names_are_escaped_and_files_never_run_in_the_page(aml, aml_workspace, session, tmp_path):
    run = Experiment(aml_workspace, "browser-demo").start_logging(snapshot_directory=None)
    run.tag("<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>")
    evil = tmp_path / "evil.html"
    evil.write_text("<script>alert(3)</script>")
    run.upload_file("outputs/evil.html", str(evil))
    run.complete()
    page_url = run_list_url(aml).split("/experiments/")[0] + "/runs/" + run.id
    for html in (session.get(page_url).text, session.get(run_list_url(aml)).text):
        assert "<script>" not in html and "<img src=x" not in html and "&lt;script&gt;alert(1)" in html
    download = session.get(page_url + "/files/outputs/evil.html")
    assert download.content == b"<script>alert(3)</script>"
    assert download.headers["Content-Disposition"] == "attachment" and download.headers["Content-Security-Policy"] == "sandbox"
    assert "default-src 'none'" in session.get(page_url).headers["Content-Security-Policy"]


def test_run_page_shows_the_mlflow_params(aml, aml_workspace, session):
    mlflow = pytest.importorskip("mlflow", reason="MLflow params need the mlflow extra (amlmock[mlflow])")
    mlflow.set_experiment("browser-demo")
    with mlflow.start_run() as active:
        mlflow.log_param("learning rate", "0.01")
        mlflow.log_param("<b>", "<i>")
    page_url = run_list_url(aml).split("/experiments/")[0] + "/runs/" + active.info.run_id
    html = session.get(page_url).text
    params = html.split('id="mlflow-params"', 1)[1]
    assert "<td>learning rate</td><td>0.01</td>" in params and "<td>&lt;b&gt;</td><td>&lt;i&gt;</td>" in params
