//! The event store of the SQL backends whose drivers share rusqlite's API
//! (rusqlite itself and duckdb): written once as a macro over the driver
//! crate, since the two crates have the same names and signatures but no
//! common traits. The SQL comes from [`crate::event_sql`].
//!
//! A backend provides, beside the macro call: an `unavailable` error
//! mapper in scope, `ToSql` for [`crate::event_sql::SqlValue`], methods
//! that run a closure with a connection on the blocking pool for reads and
//! for writes (named in the macro call; they may be one), a function that
//! reads the tags of an event row from its ninth column on (named in the
//! macro call, for the backend's [`crate::event_sql::TagLayout`]),
//! `insert_rows` (its bulk path, given the batch's distinct events) and
//! `compact_files`.

/// Implements `EventStore` for `$store` on the driver crate `$driver`,
/// whose "no row is `None`" extension trait is `$optional`, reading through
/// the method `$read` and writing through `$write`, with tags in the
/// layout `$layout`, read from a row by `$tags`.
macro_rules! sql_event_store {
    (
        $store:ty,
        $driver:ident,
        $optional:path,
        read: $read:ident,
        write: $write:ident,
        tags: $layout:expr,
        read_tags: $tags:path
    ) => {
        use $optional as _;

        /// Where the backend keeps tags.
        const LAYOUT: $crate::event_sql::TagLayout = $layout;

        /// Reads a row of [`TagLayout::event_columns`](crate::event_sql::TagLayout::event_columns).
        fn event_row(
            row: &$driver::Row<'_>,
        ) -> $driver::Result<Result<sentry_core::store::StoredEvent, sentry_core::store::StoreError>>
        {
            Ok($crate::event_sql::stored_event($crate::event_sql::EventColumns {
                project_id: row.get(0)?,
                event_id: row.get(1)?,
                issue_id: row.get(2)?,
                timestamp: row.get(3)?,
                received: row.get(4)?,
                hash: row.get(5)?,
                grouping_config: row.get(6)?,
                payload: row.get(7)?,
                tags: match $tags(row)? {
                    Ok(tags) => tags,
                    Err(error) => return Ok(Err(error)),
                },
            }))
        }

        /// Runs a query and maps every row.
        fn query_rows<T>(
            connection: &$driver::Connection,
            sql: &$crate::event_sql::Sql,
            mut map: impl FnMut(
                &$driver::Row<'_>,
            ) -> $driver::Result<Result<T, sentry_core::store::StoreError>>,
        ) -> Result<Vec<T>, sentry_core::store::StoreError> {
            let mut statement = connection.prepare_cached(&sql.text).map_err(unavailable)?;
            let mut rows = statement
                .query($driver::params_from_iter(sql.params.iter()))
                .map_err(unavailable)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(unavailable)? {
                out.push(map(row).map_err(unavailable)??);
            }
            Ok(out)
        }

        impl sentry_core::store::EventStore for $store {
            async fn insert_events(
                &self,
                events: &[sentry_core::store::StoredEvent],
            ) -> Result<u64, sentry_core::store::StoreError> {
                self.insert_rows($crate::event_sql::distinct_events(events))
                    .await
            }

            async fn stored_event_ids(
                &self,
                project_id: sentry_core::ProjectId,
                event_ids: &[sentry_core::EventId],
            ) -> Result<Vec<sentry_core::EventId>, sentry_core::store::StoreError> {
                if event_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let project_id = $crate::event_sql::project_param(project_id)?;
                let event_ids = event_ids.to_vec();
                self.$read(move |connection| {
                    let mut found = Vec::new();
                    // In slices, within every engine's limit of parameters.
                    for slice in event_ids.chunks(500) {
                        let marks = vec!["?"; slice.len()].join(", ");
                        let sql = format!(
                            "SELECT event_id FROM events WHERE project_id = ? AND event_id IN ({marks})"
                        );
                        let mut statement = connection.prepare(&sql).map_err(unavailable)?;
                        let mut params: Vec<Box<dyn $driver::ToSql>> = Vec::with_capacity(slice.len() + 1);
                        params.push(Box::new(project_id));
                        for id in slice {
                            params.push(Box::new(id.as_bytes().to_vec()));
                        }
                        let rows = statement
                            .query_map(
                                $driver::params_from_iter(params.iter().map(|param| param.as_ref())),
                                |row| row.get::<_, Vec<u8>>(0),
                            )
                            .map_err(unavailable)?;
                        for row in rows {
                            let bytes = row.map_err(unavailable)?;
                            let bytes: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
                                sentry_core::store::StoreError::new(
                                    sentry_core::store::StoreErrorKind::Corrupt,
                                    "an event id is not 16 bytes",
                                )
                            })?;
                            found.push(sentry_core::EventId::from_bytes(bytes));
                        }
                    }
                    Ok(found)
                })
                .await
            }

            async fn event(
                &self,
                project_id: sentry_core::ProjectId,
                event_id: sentry_core::EventId,
            ) -> Result<Option<sentry_core::store::StoredEvent>, sentry_core::store::StoreError>
            {
                let project_id = $crate::event_sql::project_param(project_id)?;
                self.$read(move |connection| {
                    connection
                        .query_row(
                            &format!(
                                "SELECT {} FROM events e \
                                 WHERE e.project_id = ? AND e.event_id = ?",
                                LAYOUT.event_columns()
                            ),
                            $driver::params![project_id, &event_id.as_bytes()[..]],
                            event_row,
                        )
                        .optional()
                        .map_err(unavailable)?
                        .transpose()
                })
                .await
            }

            async fn issue_event(
                &self,
                issue: &sentry_core::store::Issue,
                pick: sentry_core::store::EventPick,
            ) -> Result<Option<sentry_core::store::StoredEvent>, sentry_core::store::StoreError>
            {
                let (order, bound, seen) = match pick {
                    sentry_core::store::EventPick::Latest => ("DESC", ">=", issue.last_seen),
                    sentry_core::store::EventPick::Oldest => ("ASC", "<=", issue.first_seen),
                };
                let project_id = $crate::event_sql::project_param(issue.project_id)?;
                let issue_id = issue.id.0;
                let seen = seen.as_unix_micros();
                self.$read(move |connection| {
                    // At the bound first: the engine skips every block of
                    // events whose timestamps lie beyond it.
                    for condition in [format!("AND e.timestamp {bound} ?"), String::new()] {
                        let sql = format!(
                            "SELECT {} FROM events e \
                             WHERE e.project_id = ? AND e.issue_id = ? {condition} \
                             ORDER BY e.timestamp {order}, e.event_id {order} LIMIT 1",
                            LAYOUT.event_columns()
                        );
                        let mut params = vec![project_id, issue_id];
                        if !condition.is_empty() {
                            params.push(seen);
                        }
                        let found = connection
                            .query_row(&sql, $driver::params_from_iter(params), event_row)
                            .optional()
                            .map_err(unavailable)?
                            .transpose()?;
                        if found.is_some() {
                            return Ok(found);
                        }
                    }
                    Ok(None)
                })
                .await
            }

            async fn list_events(
                &self,
                filter: &sentry_core::store::EventFilter,
                after: Option<sentry_core::store::EventCursor>,
                limit: u64,
            ) -> Result<
                sentry_core::store::Page<sentry_core::store::StoredEvent>,
                sentry_core::store::StoreError,
            > {
                let sql = $crate::event_sql::list_events(LAYOUT, filter, after, limit)?;
                self.$read(move |connection| {
                    let mut items = query_rows(connection, &sql, event_row)?;
                    let has_more = items.len() as u64 > limit;
                    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                    Ok(sentry_core::store::Page { items, has_more })
                })
                .await
            }

            async fn count_events(
                &self,
                filter: &sentry_core::store::EventFilter,
            ) -> Result<sentry_core::store::EventCounts, sentry_core::store::StoreError> {
                let sql = $crate::event_sql::count_events(filter, LAYOUT)?;
                self.$read(move |connection| {
                    let rows = query_rows(connection, &sql, |row| {
                        Ok($crate::event_sql::event_counts(
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                        ))
                    })?;
                    Ok(rows.into_iter().next().unwrap_or_default())
                })
                .await
            }

            async fn count_by_issue(
                &self,
                filter: &sentry_core::store::EventFilter,
            ) -> Result<Vec<sentry_core::store::IssueCounts>, sentry_core::store::StoreError> {
                let events = $crate::event_sql::count_by_issue(filter, LAYOUT)?;
                let users = $crate::event_sql::users_by_issue(filter, LAYOUT)?;
                self.$read(move |connection| {
                    let users = query_rows(connection, &users, |row| {
                        Ok(Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))
                    })?;
                    query_rows(connection, &events, |row| {
                        let issue_id: i64 = row.get(0)?;
                        let user_count = users
                            .iter()
                            .find(|(issue, _)| *issue == issue_id)
                            .map_or(0, |(_, count)| *count);
                        Ok($crate::event_sql::event_counts(
                            row.get(1)?,
                            Some(row.get(2)?),
                            Some(row.get(3)?),
                            user_count,
                        )
                        .map(|counts| sentry_core::store::IssueCounts {
                            issue_id: sentry_core::IssueId(issue_id),
                            counts,
                        }))
                    })
                })
                .await
            }

            async fn event_series(
                &self,
                filter: &sentry_core::store::EventFilter,
                interval_seconds: u64,
            ) -> Result<Vec<sentry_core::store::SeriesBucket>, sentry_core::store::StoreError> {
                let sql = $crate::event_sql::event_series(filter, LAYOUT, interval_seconds)?;
                self.$read(move |connection| {
                    query_rows(connection, &sql, |row| {
                        Ok($crate::event_sql::series_bucket(row.get(0)?, row.get(1)?))
                    })
                })
                .await
            }

            async fn tag_facets(
                &self,
                filter: &sentry_core::store::EventFilter,
                keys: &[String],
                top: u64,
            ) -> Result<Vec<sentry_core::store::TagFacet>, sentry_core::store::StoreError> {
                let sql = $crate::event_sql::tag_facets(filter, LAYOUT, keys, top)?;
                self.$read(move |connection| {
                    let rows = query_rows(connection, &sql, |row| {
                        Ok(Ok($crate::event_sql::FacetRow {
                            key: row.get(0)?,
                            value: row.get(1)?,
                            count: row.get(2)?,
                            first_seen: row.get(3)?,
                            last_seen: row.get(4)?,
                            total: row.get(5)?,
                            distinct: row.get(6)?,
                        }))
                    })?;
                    $crate::event_sql::gather_facets(rows)
                })
                .await
            }

            async fn delete_events_before(
                &self,
                project_id: sentry_core::ProjectId,
                before: sentry_core::protocol::Timestamp,
            ) -> Result<u64, sentry_core::store::StoreError> {
                let project_id = $crate::event_sql::project_param(project_id)?;
                let before = before.as_unix_micros();
                self.$write(move |connection| {
                    let transaction = connection.transaction().map_err(unavailable)?;
                    let bind = $driver::params![project_id, before];
                    let mut deleted = 0;
                    for table in LAYOUT.tables() {
                        deleted = transaction
                            .execute(&$crate::event_sql::delete_before(table), bind)
                            .map_err(unavailable)?;
                    }
                    transaction.commit().map_err(unavailable)?;
                    Ok(deleted as u64)
                })
                .await
            }

            async fn trim_events(
                &self,
                project_id: sentry_core::ProjectId,
                keep: u64,
            ) -> Result<u64, sentry_core::store::StoreError> {
                let project_id = $crate::event_sql::project_param(project_id)?;
                let keep = i64::try_from(keep).unwrap_or(i64::MAX);
                self.$write(move |connection| {
                    let transaction = connection.transaction().map_err(unavailable)?;
                    let cutoff: Option<(i64, Vec<u8>)> = transaction
                        .query_row(
                            $crate::event_sql::TRIM_CUTOFF,
                            $driver::params![project_id, keep],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .optional()
                        .map_err(unavailable)?;
                    let Some((timestamp, event_id)) = cutoff else {
                        return Ok(0);
                    };
                    let bind = $driver::params![project_id, timestamp, timestamp, event_id];
                    let mut deleted = 0;
                    for table in LAYOUT.tables() {
                        deleted = transaction
                            .execute(&$crate::event_sql::delete_through(table), bind)
                            .map_err(unavailable)?;
                    }
                    transaction.commit().map_err(unavailable)?;
                    Ok(deleted as u64)
                })
                .await
            }

            async fn compact(&self) -> Result<(), sentry_core::store::StoreError> {
                self.compact_files().await
            }
        }
    };
}

pub(crate) use sql_event_store;
