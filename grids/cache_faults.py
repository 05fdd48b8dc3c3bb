"""What "the cache is unreachable" means (Redis down or too slow): the errors
the cache backend (``governance.cache``) turns into a miss, and the API's
throttles (``grids.api.throttling``) into letting a request through. Here, in
the lowest app, so that both can import it."""

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
