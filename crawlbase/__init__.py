"""What every role stands on besides the pure core: its settings and its guarded HTTP client.

`crawlbase.config` reads the deployment's settings from the environment; `crawlbase.outbound` is
the one HTTP client for requests made on a user's behalf (processing services, webhooks). Both
import only `crawlcore` of this project; `crawlstore`, the roles (`spiders`, `controller`) and the
entry point (`crawlfleet`) stand on them.
"""
