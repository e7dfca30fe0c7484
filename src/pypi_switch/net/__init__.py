"""The only code that talks to the network.

Modules, lightest first (``deadline``, ``report`` and ``pages`` import no HTTP stack):

- ``deadline``: ``Deadline``, one wall-clock budget shared by every request of a run.
- ``report``: ``ProbeResult``/``ProbeReport``, what a probe found (read by ``rank`` and views).
- ``pages``: ``parse_page`` reads a PEP 691 JSON or PEP 503 HTML project page (serials from
  ``meta._last-serial``, ``<!--SERIAL n-->`` or ``X-PyPI-Last-Serial``); ``page_url``.
- ``trust``: ``Trust``, the certificates pip would trust.
- ``transport``: ``Transport.get``, one request under the policy (deadline, byte caps,
  redirects, credentials per origin, proxies, trust); failures are ``NetError``.
- ``fanout``: ``Fanout``, many tasks with a bounded number in flight, collected as they end.
- ``probe``: ``probe_mirrors``, the canary page everywhere, stopping once the choice is final.
- ``health``: ``upstream_health``, the cron tick's narrow check of upstream.

A second phase under the same deadline (pages of other projects from the chosen mirror,
a file whose sha256 is checked while it streams) needs only the first four pieces::

    deadline = Deadline.after(settings.timeout)      # also given to probe_mirrors
    transport = Transport(trust)                     # the probe's, or a new one
    with Fanout(limit=8) as fan:
        for name in projects:
            fan.submit(name, lambda name=name: transport.get(
                page_url(mirror, name), deadline=deadline))
        for done in fan.results(deadline):           # done.value: Response, or done.error
            page = parse_page(done.value.body, content_type=..., url=..., project=done.key)
    digest = hashlib.sha256()
    transport.get(file.url, deadline=deadline, max_bytes=cap, accept="*/*",
                  write=digest.update)               # NetError past the cap or the deadline
"""
