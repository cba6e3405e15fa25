//! The store's one connection: to a single Valkey (a `ConnectionManager`), or to a Valkey
//! Cluster (the `redis` crate's cluster client, which routes each command to its slot's
//! node, follows `MOVED` and `ASK`, and refreshes the slot map after a failover).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::config::ConnectionConfig;

#[derive(Clone)]
pub enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    /// A connection as `config` asks (`Valkey__Cluster`, `Valkey__Url`), each call
    /// answered within `deadline`.
    pub fn open(config: &ConnectionConfig, deadline: Duration) -> RedisResult<Self> {
        if config.valkey_cluster {
            Self::cluster(&config.valkey_seeds(), deadline)
        } else {
            Self::single(&config.valkey_url, deadline)
        }
    }

    /// Is it a Valkey Cluster's (where no command may span slots)?
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// A lazy connection to one server that reconnects by itself.
    fn single(url: &str, deadline: Duration) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(deadline))
            .set_response_timeout(Some(deadline))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        Ok(Self::Single(ConnectionManager::new_lazy_with_config(
            client, config,
        )?))
    }

    /// A connection to a cluster found through `seeds`, made in the background.
    fn cluster(seeds: &[&str], deadline: Duration) -> RedisResult<Self> {
        let client = ClusterClientBuilder::new(seeds.to_vec())
            .connection_timeout(deadline)
            .response_timeout(deadline)
            .retries(2)
            .build()?;
        let config = ClusterConfig::new()
            .set_connection_timeout(deadline)
            .set_response_timeout(deadline);
        Ok(Self::Cluster(
            client.get_pending_async_connection_with_config(config),
        ))
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}
