//! The [`Store`] implementation both engines share, written once as plain Rust. Each
//! engine file declares this file as a module of its own (`#[path = "shared.rs"] mod
//! shared;`) after naming what differs in its scope:
//! - `Db`: the sqlx database, and `EngineStore`, the store type implemented here;
//! - `WriteTx`: the write transaction [`EngineStore::begin_write`] opens, which derefs to the
//!   engine's connection and ends with `commit` or `rollback` (dropped, it rolls back);
//! - `FOR_SHARE`: appended to reads that must hold rows still until commit (`" for share"` on
//!   PostgreSQL; empty on SQLite, whose write transactions already exclude each other);
//! - `FOR_KEY_SHARE`: the same, but letting plain updates of other columns through
//!   (`" for key share"` on PostgreSQL): an answer batch holds its participants this way,
//!   which still blocks a removal (it locks `for update` first) but not a presence flush,
//!   which `for share` would deadlock against;
//! - `FOR_UPDATE`: the same for rows about to be changed (`" for update"` on PostgreSQL).
//!
//! The portability rules are in [`super::portable`].

#[allow(clippy::wildcard_imports)]
use super::super::portable::prelude::*;
use super::{Db, EngineStore, FOR_KEY_SHARE, FOR_SHARE, FOR_UPDATE, WriteTx};
use crate::storage::{Store, StoreError};

/// A session's teams as stored: JSON, or null for none.
fn teams_json(s: &Session) -> Result<Option<String>, StoreError> {
    s.teams
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Internal(e.to_string()))
}

impl EngineStore {
    /// Runs one writing statement in a write transaction of its own. Every write goes
    /// through [`Self::begin_write`], so on SQLite it queues for the one writing
    /// connection instead of sleeping in SQLite's busy handler on a pooled one, and the
    /// writing connection's page cache stays warm.
    async fn write_one(
        &self,
        statement: sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments>,
    ) -> Result<<Db as sqlx::Database>::QueryResult, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = statement.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// One answer batch in one transaction (see [`Store::write_responses`]). With
    /// `find_replays` false it expects no request id that an earlier batch stored:
    /// the request log's insert then sends no rows back, and if it stored fewer keys
    /// than it was given, the transaction is rolled back and `None` says to run the
    /// batch again with `find_replays`, which reads back which keys were new.
    async fn write_answer_batch(
        &self,
        batch: &[ResponseWrite],
        find_replays: bool,
    ) -> Result<Option<Vec<WriteOutcome>>, StoreError> {
        use std::collections::{HashMap, HashSet};
        let mut outcomes = vec![WriteOutcome::Stored; batch.len()];
        let mut tx = self.begin_write().await?;

        // 1. Which activities still take answers in the submitted round: in a live
        //    session the active one until its deadline; in a self-paced session every one
        //    but drafts, while the session's hours allow. The activity rows stay locked
        //    until commit, so a concurrent close waits for this batch.
        let activity_ids: HashSet<ActivityId> = batch.iter().map(|w| w.activity_id).collect();
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "select id, session_id, state, round, deadline_at, activated_at from activities \
             where id in (",
        );
        let mut list = query.separated(", ");
        for id in &activity_ids {
            list.push_bind(*id);
        }
        query.push(")");
        query.push(FOR_SHARE);
        type ActivityRun = (
            ActivityId,
            SessionId,
            String,
            i32,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        );
        let runs: Vec<ActivityRun> = query
            .build_query_as::<ActivityRun>()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
        let session_ids: HashSet<SessionId> = runs.iter().map(|r| r.1).collect();
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "select id, pace, opens_at, closes_at from sessions where status = 'active' and \
             id in (",
        );
        let mut list = query.separated(", ");
        for id in &session_ids {
            list.push_bind(*id);
        }
        query.push(")");
        // Self-paced sessions, with their opening and closing times.
        let paced: HashMap<SessionId, Hours> = query
            .build_query_as::<(
                SessionId,
                String,
                Option<DateTime<Utc>>,
                Option<DateTime<Utc>>,
            )>()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter(|(_, pace, _, _)| pace == "self_paced")
            .map(|(id, _, opens_at, closes_at)| {
                (
                    id,
                    Hours {
                        opens_at,
                        closes_at,
                    },
                )
            })
            .collect();
        // Per activity that takes answers: round, deadline (none when self-paced), when
        // the round opened, and the self-paced hours.
        type Open = (
            i32,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<Hours>,
        );
        let open: HashMap<ActivityId, Open> = runs
            .into_iter()
            .filter_map(|(id, session, state, round, deadline, activated)| {
                match paced.get(&session) {
                    Some(hours) if state != "draft" => {
                        Some((id, (round, None, activated, Some(*hours))))
                    }
                    None if state == "active" => Some((id, (round, deadline, activated, None))),
                    _ => None,
                }
            })
            .collect();

        // 2. Which participants may still answer. Nearly always every one: they are
        //    counted (one row back, not one per participant), and listed only when
        //    some are not.
        let participant_ids: HashSet<ParticipantId> =
            batch.iter().map(|w| w.participant_id).collect();
        let active_participants = |query: &mut sqlx::QueryBuilder<Db>| {
            query.push("select id from participants where status = 'active' and id in (");
            let mut list = query.separated(", ");
            for id in &participant_ids {
                list.push_bind(*id);
            }
            query.push(")");
            query.push(FOR_KEY_SHARE);
        };
        // The rows are locked inside: PostgreSQL locks no rows for an aggregate.
        let mut query = sqlx::QueryBuilder::<Db>::new("select count(*) from (");
        active_participants(&mut query);
        query.push(") as locked");
        let counted: i64 = query
            .build_query_scalar()
            .persistent(false)
            .fetch_one(&mut *tx)
            .await?;
        // None: every one is active.
        let active: Option<HashSet<ParticipantId>> =
            if usize::try_from(counted).is_ok_and(|n| n == participant_ids.len()) {
                None
            } else {
                let mut query = sqlx::QueryBuilder::<Db>::default();
                active_participants(&mut query);
                Some(
                    query
                        .build_query_scalar::<ParticipantId>()
                        .persistent(false)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect(),
                )
            };

        for (write, outcome) in batch.iter().zip(outcomes.iter_mut()) {
            match open.get(&write.activity_id) {
                Some((round, ..)) if *round != write.round => {
                    *outcome = WriteOutcome::ActivityNotActive
                }
                None => *outcome = WriteOutcome::ActivityNotActive,
                // Judged by when the answer arrived, not when its batch commits.
                Some((_, Some(deadline), ..)) if write.at >= *deadline => {
                    *outcome = WriteOutcome::TimeUp
                }
                Some((.., Some(hours)))
                    if hours.window(write.at) != crate::model::session::Window::Open =>
                {
                    *outcome = WriteOutcome::SessionClosed
                }
                Some(_) => {}
            }
            if *outcome != WriteOutcome::Stored {
                continue;
            }
            if active
                .as_ref()
                .is_some_and(|active| !active.contains(&write.participant_id))
            {
                *outcome = WriteOutcome::ParticipantInactive;
            }
        }

        // 3. Final answers (quiz, buzzer): a slot filled before, or earlier in this
        //    batch, is refused, not replaced.
        let finals: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].final_answer && outcomes[i] == WriteOutcome::Stored)
            .collect();
        if !finals.is_empty() {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "select activity_id, round, participant_id, slot from responses where \
                 participant_id in (",
            );
            let mut list = query.separated(", ");
            for &index in &finals {
                list.push_bind(batch[index].participant_id);
            }
            query.push(")");
            let mut filled: HashSet<(ActivityId, i32, ParticipantId, String)> = query
                .build_query_as::<(ActivityId, i32, ParticipantId, String)>()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            for &index in &finals {
                let w = &batch[index];
                if !filled.insert((w.activity_id, w.round, w.participant_id, w.slot.clone())) {
                    outcomes[index] = WriteOutcome::AlreadyAnswered;
                }
            }
        }

        // 4. Idempotency: the first use of a client_request_id wins, within the batch
        //    and across all earlier ones.
        let mut seen_in_batch: HashSet<(ParticipantId, &str)> = HashSet::new();
        let mut keyed: Vec<usize> = Vec::new();
        for (index, write) in batch.iter().enumerate() {
            if outcomes[index] != WriteOutcome::Stored {
                continue;
            }
            if let Some(key) = write.client_request_id.as_deref() {
                if seen_in_batch.insert((write.participant_id, key)) {
                    keyed.push(index);
                } else {
                    outcomes[index] = WriteOutcome::Replay;
                }
            }
        }
        if !keyed.is_empty() {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "insert into response_requests (participant_id, client_request_id, activity_id, \
                 round, slot, created_at) ",
            );
            query.push_values(keyed.iter().map(|&i| &batch[i]), |mut row, w| {
                row.push_bind(w.participant_id)
                    .push_bind(w.client_request_id.clone())
                    .push_bind(w.activity_id)
                    .push_bind(w.round)
                    .push_bind(w.slot.clone())
                    .push_bind(w.at);
            });
            query.push(" on conflict (participant_id, client_request_id) do nothing");
            if find_replays {
                query.push(" returning participant_id, client_request_id");
                let fresh: HashSet<(ParticipantId, String)> = query
                    .build_query_as::<(ParticipantId, String)>()
                    .persistent(false)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
                for &index in &keyed {
                    let w = &batch[index];
                    let key = (
                        w.participant_id,
                        w.client_request_id.clone().unwrap_or_default(),
                    );
                    if !fresh.contains(&key) {
                        outcomes[index] = WriteOutcome::Replay;
                    }
                }
            } else {
                // Every key new, as nearly always: nothing to read back.
                let stored = query
                    .build()
                    .persistent(false)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if usize::try_from(stored).ok() != Some(keyed.len()) {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
        }

        // 5. Upsert the answers. Within a batch the last answer for a slot wins; a
        //    statement may not touch the same row twice. (Final answers reach this
        //    point at most once per slot.)
        let mut last_for_slot: HashMap<(ActivityId, i32, ParticipantId, &str), usize> =
            HashMap::new();
        for (index, write) in batch.iter().enumerate() {
            if outcomes[index] == WriteOutcome::Stored {
                last_for_slot.insert(
                    (
                        write.activity_id,
                        write.round,
                        write.participant_id,
                        write.slot.as_str(),
                    ),
                    index,
                );
            }
        }
        let mut rows: Vec<usize> = last_for_slot.into_values().collect();
        rows.sort_unstable();
        if !rows.is_empty() {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "insert into responses (id, activity_id, session_id, participant_id, round, \
                 slot, answer, \
                 client_request_id, created_at, updated_at, answer_ms) ",
            );
            query.push_values(rows.iter().map(|&i| &batch[i]), |mut row, w| {
                row.push_bind(w.id)
                    .push_bind(w.activity_id)
                    .push_bind(w.session_id)
                    .push_bind(w.participant_id)
                    .push_bind(w.round)
                    .push_bind(w.slot.clone())
                    .push_bind(w.answer.clone())
                    .push_bind(w.client_request_id.clone())
                    .push_bind(w.at)
                    .push_bind(w.at)
                    .push_bind(answer_ms(
                        w.answerable_since
                            .or_else(|| open.get(&w.activity_id).and_then(|o| o.2)),
                        w.at,
                    ));
            });
            // A replaced answer keeps its first time to answer.
            query.push(
                " on conflict (activity_id, round, participant_id, slot) do update set \
                 answer = excluded.answer, client_request_id = excluded.client_request_id, \
                 updated_at = excluded.updated_at",
            );
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some(outcomes))
    }

    /// Inserts one session row (its activities are separate rows).
    async fn insert_session_row(tx: &mut WriteTx, s: &Session) -> Result<(), StoreError> {
        let settings =
            serde_json::to_string(&s.settings).map_err(|e| StoreError::Internal(e.to_string()))?;
        sqlx::query::<Db>(
            "insert into sessions (id, organizer_id, title, description, status, join_code, \
             max_participants, participant_count, settings, created_at, updated_at, started_at, \
             completed_at, template_id, template_version, template_variant, pace, opens_at, \
             closes_at, teams) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20)",
        )
        .bind(s.id)
        .bind(s.organizer_id)
        .bind(&s.title)
        .bind(&s.description)
        .bind(s.status.as_str())
        .bind(s.join_code.as_str())
        .bind(as_i32(s.max_participants))
        .bind(as_i32(s.participant_count))
        .bind(settings)
        .bind(s.created_at)
        .bind(s.updated_at)
        .bind(s.started_at)
        .bind(s.completed_at)
        .bind(s.template.as_ref().map(|t| t.template_id))
        .bind(s.template.as_ref().map(|t| t.version))
        .bind(s.template.as_ref().and_then(|t| t.variant.as_deref()))
        .bind(s.pace.as_str())
        .bind(s.opens_at)
        .bind(s.closes_at)
        .bind(teams_json(s)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Stores `new` as the template's next version and links its source session.
    async fn insert_version_row(tx: &mut WriteTx, new: &NewVersion<'_>) -> Result<i32, StoreError> {
        // Touching the template first locks its row (PostgreSQL), so two saves of
        // one template take numbers one after the other.
        let touched = sqlx::query::<Db>("update templates set updated_at = $2 where id = $1")
            .bind(new.template_id)
            .bind(new.at)
            .execute(&mut **tx)
            .await?;
        if touched.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let version: i32 = sqlx::query_scalar::<Db, i32>(
            "select coalesce(max(version), 0) + 1 from template_versions where template_id = $1",
        )
        .bind(new.template_id)
        .fetch_one(&mut **tx)
        .await?;
        let definition = serde_json::to_string(new.definition)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        sqlx::query::<Db>(
            "insert into template_versions (template_id, version, note, definition, \
             source_session_id, created_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.template_id)
        .bind(version)
        .bind(new.note)
        .bind(definition)
        .bind(new.source)
        .bind(new.at)
        .execute(&mut **tx)
        .await?;
        if let Some(session) = new.source {
            sqlx::query::<Db>(
                "update sessions set template_id = $2, template_version = $3, template_variant \
                 = null where id = $1",
            )
            .bind(session)
            .bind(new.template_id)
            .bind(version)
            .execute(&mut **tx)
            .await?;
            for (activity, key) in new.keys {
                sqlx::query::<Db>(
                    "update activities set template_key = $3 where id = $1 and session_id = $2",
                )
                .bind(activity)
                .bind(session)
                .bind(key)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(version)
    }

    /// Ends the organizer's tokens that `ends` names, inside `tx`.
    async fn end_tokens(
        tx: &mut WriteTx,
        organizer: OrganizerId,
        ends: EndTokens,
    ) -> Result<(), StoreError> {
        match ends {
            EndTokens::OtherLogins(keep) => {
                sqlx::query::<Db>(
                    "delete from api_tokens where organizer_id = $1 and kind = 'login' \
                     and id <> $2",
                )
                .bind(organizer)
                .bind(keep)
                .execute(&mut **tx)
                .await?
            }
            EndTokens::All => {
                sqlx::query::<Db>("delete from api_tokens where organizer_id = $1")
                    .bind(organizer)
                    .execute(&mut **tx)
                    .await?
            }
        };
        Ok(())
    }

    /// Inserts one activity row at `position`.
    async fn insert_activity_row(
        tx: &mut WriteTx,
        a: &Activity,
        position: i32,
    ) -> Result<(), StoreError> {
        let config = a.config.to_string();
        let kind_state = a.kind_state.to_string();
        sqlx::query::<Db>(
            "insert into activities (id, session_id, kind, title, position, config, kind_state, \
             state, round, results_visibility, results_revealed, time_limit_seconds, activated_at, \
             deadline_at, closed_at, created_at, updated_at, template_key) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18)",
        )
        .bind(a.id)
        .bind(a.session_id)
        .bind(&a.kind)
        .bind(&a.title)
        .bind(position)
        .bind(config)
        .bind(kind_state)
        .bind(a.state.as_str())
        .bind(a.round)
        .bind(a.results_visibility.as_str())
        .bind(a.results_revealed)
        .bind(a.time_limit_seconds.map(as_i32))
        .bind(a.activated_at)
        .bind(a.deadline_at)
        .bind(a.closed_at)
        .bind(a.created_at)
        .bind(a.updated_at)
        .bind(a.template_key.as_deref())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for EngineStore {
    async fn insert_organizer(&self, o: &Organizer, password_hash: &str) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "insert into organizers (id, email, password_hash, is_admin, created_at) values \
             ($1, $2, $3, $4, $5)",
            )
            .bind(o.id)
            .bind(&o.email)
            .bind(password_hash)
            .bind(o.is_admin)
            .bind(o.created_at),
        )
        .await?;
        Ok(())
    }

    async fn organizer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(Organizer, String)>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ORGANIZER_COLUMNS} from organizers where email = $1"
        ));
        let row: Option<OrganizerRow> = sqlx::query_as::<Db, OrganizerRow>(sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(OrganizerRow::into_parts))
    }

    async fn insert_token(&self, t: &TokenRecord) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "insert into api_tokens (id, organizer_id, kind, name, token_hash, created_at, \
             expires_at, parent_id) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(t.id)
            .bind(t.organizer_id)
            .bind(t.kind.as_str())
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(t.parent_id),
        )
        .await?;
        Ok(())
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Organizer, TokenRecord)>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {TOKEN_COLUMNS}, \
                    o.email, o.password_hash, o.is_admin, o.created_at as organizer_created_at \
             from api_tokens t join organizers o on o.id = t.organizer_id \
             where t.token_hash = $1 and (t.expires_at is null or t.expires_at > $2) \
             and o.disabled_at is null"
        ));
        let row: Option<TokenOwnerRow> = sqlx::query_as::<Db, TokenOwnerRow>(sql)
            .bind(hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TokenOwnerRow::into_parts).transpose()
    }

    async fn delete_token(
        &self,
        organizer: OrganizerId,
        kind: TokenKind,
        token: TokenId,
    ) -> Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query::<Db>(
                    "delete from api_tokens where id = $1 and organizer_id = $2 and kind = $3",
                )
                .bind(token)
                .bind(organizer)
                .bind(kind.as_str()),
            )
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn tokens_of(
        &self,
        organizer: OrganizerId,
        kind: TokenKind,
    ) -> Result<Vec<TokenRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {TOKEN_COLUMNS} from api_tokens t \
             where t.organizer_id = $1 and t.kind = $2 order by t.created_at, t.id"
        ));
        let rows: Vec<TokenRow> = sqlx::query_as::<Db, TokenRow>(sql)
            .bind(organizer)
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TokenRow::into_record).collect()
    }

    async fn touch_token(
        &self,
        token: TokenId,
        at: DateTime<Utc>,
        from: &str,
    ) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "update api_tokens set last_used_at = $2, last_used_from = $3 where id = $1",
            )
            .bind(token)
            .bind(at)
            .bind(from),
        )
        .await?;
        Ok(())
    }

    async fn organizer(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ORGANIZER_COLUMNS} from organizers where id = $1"
        ));
        let row: Option<OrganizerRow> = sqlx::query_as::<Db, OrganizerRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.into_parts().0))
    }

    async fn list_organizers(&self) -> Result<Vec<Organizer>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ORGANIZER_COLUMNS} from organizers order by created_at, id"
        ));
        let rows: Vec<OrganizerRow> = sqlx::query_as::<Db, OrganizerRow>(sql)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|row| row.into_parts().0).collect())
    }

    async fn set_password(
        &self,
        organizer: OrganizerId,
        password_hash: &str,
        ends: EndTokens,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query::<Db>("update organizers set password_hash = $2 where id = $1")
            .bind(organizer)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        Self::end_tokens(&mut tx, organizer, ends).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_organizer_disabled(
        &self,
        organizer: OrganizerId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query::<Db>("update organizers set disabled_at = $2 where id = $1")
            .bind(organizer)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        if at.is_some() {
            Self::end_tokens(&mut tx, organizer, EndTokens::All).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_organizer(&self, organizer: OrganizerId) -> Result<bool, StoreError> {
        let done = self
            .write_one(sqlx::query::<Db>("delete from organizers where id = $1").bind(organizer))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_account_link(&self, link: &AccountLink) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "insert into account_links (id, token_hash, purpose, email, organizer_id, \
                 is_admin, created_by, created_at, expires_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(link.id)
            .bind(&link.token_hash)
            .bind(link.purpose.as_str())
            .bind(&link.email)
            .bind(link.organizer_id)
            .bind(link.is_admin)
            .bind(link.created_by)
            .bind(link.created_at)
            .bind(link.expires_at),
        )
        .await?;
        Ok(())
    }

    async fn insert_image(&self, image: &crate::images::StoredImage) -> Result<(), StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "insert into images (id, organizer_id, content_type, bytes, sha256, width, height, \
                 created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(image.id)
            .bind(image.organizer_id)
            .bind(&image.content_type)
            .bind(&image.bytes)
            .bind(&image.sha256)
            .bind(image.width)
            .bind(image.height)
            .bind(image.created_at),
        )
        .await?;
        Ok(())
    }

    async fn image(
        &self,
        id: crate::ids::ImageId,
    ) -> Result<Option<crate::images::StoredImage>, StoreError> {
        Ok(sqlx::query_as::<Db, crate::images::StoredImage>(
            "select id, organizer_id, content_type, bytes, sha256, width, height, created_at \
             from images where id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn insert_oidc_login(
        &self,
        login: &OidcLogin,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<Db>("delete from oidc_logins where expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query::<Db>(
            "insert into oidc_logins (state_hash, nonce, pkce_verifier, next_path, created_at, \
             expires_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&login.state_hash)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.next_path)
        .bind(login.created_at)
        .bind(login.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_oidc_login(
        &self,
        state_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<OidcLogin>, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken: Option<OidcLogin> = sqlx::query_as::<Db, OidcLogin>(
            "delete from oidc_logins where state_hash = $1 returning state_hash, nonce, \
             pkce_verifier, next_path, created_at, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.filter(|login| login.expires_at > now))
    }

    async fn redeem_account_link(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
        password_hash: &str,
        new_organizer: OrganizerId,
    ) -> Result<Redeemed, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut query = sqlx::QueryBuilder::<Db>::new(format!(
            "select {ACCOUNT_LINK_COLUMNS} from account_links where token_hash = "
        ));
        query
            .push_bind(hash)
            .push(" and used_at is null and expires_at > ")
            .push_bind(now)
            .push(FOR_UPDATE);
        let row: Option<AccountLinkRow> = query
            .build_query_as::<AccountLinkRow>()
            .fetch_optional(&mut *tx)
            .await?;
        let Some(link) = row.map(AccountLinkRow::into_link).transpose()? else {
            return Ok(Redeemed::Invalid);
        };
        let organizer_id = match (link.purpose, link.organizer_id) {
            (LinkPurpose::Invite, _) => {
                let inserted = sqlx::query::<Db>(
                    "insert into organizers (id, email, password_hash, is_admin, created_at) \
                     values ($1, $2, $3, $4, $5) on conflict (email) do nothing",
                )
                .bind(new_organizer)
                .bind(&link.email)
                .bind(password_hash)
                .bind(link.is_admin)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Ok(Redeemed::EmailTaken);
                }
                new_organizer
            }
            (LinkPurpose::Reset, Some(organizer)) => {
                sqlx::query::<Db>("update organizers set password_hash = $2 where id = $1")
                    .bind(organizer)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                Self::end_tokens(&mut tx, organizer, EndTokens::All).await?;
                organizer
            }
            (LinkPurpose::Reset, None) => {
                return Err(StoreError::Corrupt(format!(
                    "link {} has no organizer",
                    link.id
                )));
            }
        };
        sqlx::query::<Db>("update account_links set used_at = $2 where id = $1")
            .bind(link.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ORGANIZER_COLUMNS} from organizers where id = $1"
        ));
        let organizer: OrganizerRow = sqlx::query_as::<Db, OrganizerRow>(sql)
            .bind(organizer_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Redeemed::Done(organizer.into_parts().0))
    }

    async fn signing_key(
        &self,
        candidate: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<[u8; 32], StoreError> {
        self.write_one(
            sqlx::query::<Db>(
                "insert into signing_keys (id, secret, created_at) \
             values (1, $1, $2) on conflict (id) do nothing",
            )
            .bind(candidate.as_slice())
            .bind(now),
        )
        .await?;
        let secret: Vec<u8> =
            sqlx::query_scalar::<Db, Vec<u8>>("select secret from signing_keys where id = 1")
                .fetch_one(&self.pool)
                .await?;
        secret
            .try_into()
            .map_err(|_| StoreError::Corrupt("signing key is not 32 bytes".into()))
    }

    async fn insert_session(&self, s: &Session, activities: &[Activity]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::insert_session_row(&mut tx, s).await?;
        for (index, activity) in activities.iter().enumerate() {
            let position = i32::try_from(index + 1).unwrap_or(i32::MAX);
            Self::insert_activity_row(&mut tx, activity, position).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where id = $1"
        ));
        let row: Option<SessionRow> = sqlx::query_as::<Db, SessionRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn open_session_by_code(&self, code: &str) -> Result<Option<Session>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where join_code = $1 and status <> 'completed'"
        ));
        let row: Option<SessionRow> = sqlx::query_as::<Db, SessionRow>(sql)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn ended_session_by_code(
        &self,
        code: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where join_code = $1 and status = 'completed' \
             and completed_at >= $2 order by completed_at desc limit 1"
        ));
        let row: Option<SessionRow> = sqlx::query_as::<Db, SessionRow>(sql)
            .bind(code)
            .bind(since)
            .fetch_optional(&self.pool)
            .await?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn list_sessions(
        &self,
        owner: Option<OrganizerId>,
        status: Option<SessionStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Session>, i64), StoreError> {
        // One statement for both filters: a null parameter disables its filter.
        let filter = "($1 is null or organizer_id = $1) and ($2 is null or status = $2)";
        let sql = sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where {filter} order by created_at desc, id \
             desc limit $3 offset $4"
        ));
        let rows: Vec<SessionRow> = sqlx::query_as::<Db, SessionRow>(sql)
            .bind(owner)
            .bind(status.map(SessionStatus::as_str))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar::<Db, i64>(sqlx::AssertSqlSafe(format!(
            "select count(*) from sessions where {filter}"
        )))
        .bind(owner)
        .bind(status.map(SessionStatus::as_str))
        .fetch_one(&self.pool)
        .await?;
        let sessions = rows
            .into_iter()
            .map(SessionRow::into_session)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sessions, total))
    }

    async fn update_session_details(&self, s: &Session) -> Result<bool, StoreError> {
        let settings =
            serde_json::to_string(&s.settings).map_err(|e| StoreError::Internal(e.to_string()))?;
        let done = self.write_one(sqlx::query::<Db>(
            "update sessions set title = $2, description = $3, max_participants = $4, settings \
             = $5, updated_at = $6, pace = $7, opens_at = $8, closes_at = $9, teams = $10 \
             where id = $1",
        )
        .bind(s.id)
        .bind(&s.title)
        .bind(&s.description)
        .bind(as_i32(s.max_participants))
        .bind(settings)
        .bind(s.updated_at)
        .bind(s.pace.as_str())
        .bind(s.opens_at)
        .bind(s.closes_at)
        .bind(teams_json(s)?))
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn transition_session(
        &self,
        id: SessionId,
        from: SessionStatus,
        to: SessionStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query::<Db>(
                    "update sessions set status = $3, updated_at = $4, \
               started_at = case when $3 = 'active' then $4 else started_at end, \
               completed_at = case when $3 = 'completed' then $4 else completed_at end \
             where id = $1 and status = $2",
                )
                .bind(id)
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(now),
            )
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_session(&self, id: SessionId) -> Result<bool, StoreError> {
        let done = self
            .write_one(sqlx::query::<Db>("delete from sessions where id = $1").bind(id))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn join_sessions(&self, joins: &[Participant]) -> Result<Vec<JoinOutcome>, StoreError> {
        if joins.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        // Each session's row is read (and locked) once per batch, and its count
        // written once: concurrent joins do not queue on that row one by one. Its banned
        // browsers (almost always none) are read once per batch too, not once per join.
        let mut sessions: Vec<Seats> = Vec::new();
        let mut banned_browsers: std::collections::HashMap<SessionId, Vec<String>> =
            std::collections::HashMap::new();
        let mut outcomes = Vec::with_capacity(joins.len());
        for p in joins {
            let seats = match sessions.iter().position(|r| r.session == p.session_id) {
                Some(at) => at,
                None => {
                    let mut query = sqlx::QueryBuilder::<Db>::new(
                        "select status, participant_count, max_participants from sessions where \
                         id = ",
                    );
                    query.push_bind(p.session_id).push(FOR_UPDATE);
                    let row: Option<(String, i32, i32)> = query
                        .build_query_as::<(String, i32, i32)>()
                        .fetch_optional(&mut *tx)
                        .await?;
                    sessions.push(Seats::new(p.session_id, row));
                    let banned: Vec<String> = sqlx::query_scalar::<Db, String>(
                        "select browser from participants where session_id = $1 \
                         and status = 'banned' and browser is not null",
                    )
                    .bind(p.session_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    banned_browsers.insert(p.session_id, banned);
                    sessions.len() - 1
                }
            };
            let seats = &mut sessions[seats];
            if let Some(refused) = seats.refusal() {
                outcomes.push(refused);
                continue;
            }
            // A browser banned from the session stays out under any nickname.
            if p.browser.as_ref().is_some_and(|browser| {
                banned_browsers
                    .get(&p.session_id)
                    .is_some_and(|banned| banned.contains(browser))
            }) {
                outcomes.push(JoinOutcome::Banned);
                continue;
            }
            let inserted = sqlx::query::<Db>(
                "insert into participants (id, session_id, nickname, nickname_key, status, \
                 joined_at, last_seen_at, browser, team) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 on conflict (session_id, nickname_key) where status <> 'removed' do nothing",
            )
            .bind(p.id)
            .bind(p.session_id)
            .bind(p.nickname.as_str())
            .bind(p.nickname.key())
            .bind(p.status.as_str())
            .bind(p.joined_at)
            .bind(p.last_seen_at)
            .bind(p.browser.as_deref())
            .bind(p.team.map(i32::from))
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                outcomes.push(JoinOutcome::NicknameTaken);
            } else {
                seats.joined += 1;
                outcomes.push(JoinOutcome::Joined);
            }
        }
        for seats in sessions.iter().filter(|r| r.joined > 0) {
            sqlx::query::<Db>(
                "update sessions set participant_count = participant_count + $2 where id = $1",
            )
            .bind(seats.session)
            .bind(seats.joined)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn participant(&self, id: ParticipantId) -> Result<Option<Participant>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {PARTICIPANT_COLUMNS} from participants where id = $1"
        ));
        let row: Option<ParticipantRow> = sqlx::query_as::<Db, ParticipantRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ParticipantRow::into_participant).transpose()
    }

    async fn participant_by_nickname(
        &self,
        session: SessionId,
        key: &str,
    ) -> Result<Option<Participant>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {PARTICIPANT_COLUMNS} from participants \
             where session_id = $1 and nickname_key = $2 and status <> 'removed'"
        ));
        let row: Option<ParticipantRow> = sqlx::query_as::<Db, ParticipantRow>(sql)
            .bind(session)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ParticipantRow::into_participant).transpose()
    }

    async fn nickname_keys_with_prefix(
        &self,
        session: SessionId,
        prefix: &str,
    ) -> Result<Vec<String>, StoreError> {
        // Compared with substr, not LIKE, so % and _ in nicknames are plain characters.
        let keys: Vec<String> = sqlx::query_scalar::<Db, String>(
            "select nickname_key from participants where session_id = $1 and status <> 'removed' \
             and substr(nickname_key, 1, $3) = $2",
        )
        .bind(session)
        .bind(prefix)
        .bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(keys)
    }

    async fn list_participants(
        &self,
        session: SessionId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Participant>, i64), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {PARTICIPANT_COLUMNS} from participants where session_id = $1 \
             order by joined_at, id limit $2 offset $3"
        ));
        let rows: Vec<ParticipantRow> = sqlx::query_as::<Db, ParticipantRow>(sql)
            .bind(session)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query_scalar::<Db, i64>(
            "select count(*) from participants where session_id = $1",
        )
        .bind(session)
        .fetch_one(&self.pool)
        .await?;
        let participants = rows
            .into_iter()
            .map(ParticipantRow::into_participant)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((participants, total))
    }

    async fn set_participant_status(
        &self,
        session: SessionId,
        participant: ParticipantId,
        status: ParticipantStatus,
    ) -> Result<Option<ParticipantStatus>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut query =
            sqlx::QueryBuilder::<Db>::new("select status from participants where id = ");
        query
            .push_bind(participant)
            .push(" and session_id = ")
            .push_bind(session)
            .push(FOR_UPDATE);
        let previous: Option<String> = query
            .build_query_scalar::<String>()
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = previous else {
            tx.rollback().await?;
            return Ok(None);
        };
        sqlx::query::<Db>("update participants set status = $2 where id = $1")
            .bind(participant)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await?;
        let previous = ParticipantStatus::parse(&previous)
            .ok_or_else(|| StoreError::Corrupt(format!("participant {participant} status")))?;
        let delta: i32 = match (
            previous == ParticipantStatus::Active,
            status == ParticipantStatus::Active,
        ) {
            (true, false) => -1,
            (false, true) => 1,
            _ => 0,
        };
        if delta != 0 {
            sqlx::query::<Db>(
                "update sessions set participant_count = participant_count + $2 where id = $1",
            )
            .bind(session)
            .bind(delta)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(previous))
    }

    async fn count_present(
        &self,
        session: SessionId,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<Db, i64>(
            "select count(*) from participants where session_id = $1 and status = 'active' \
             and last_seen_at >= $2",
        )
        .bind(session)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn record_presence(
        &self,
        seen: &[(ParticipantId, DateTime<Utc>)],
    ) -> Result<(), StoreError> {
        // Short transactions of one multi-row statement each, so other writers (the
        // answers' group commit above all) never wait long behind a flush.
        for chunk in seen.chunks(PRESENCE_CHUNK) {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "update participants set last_seen_at = v.column2 from (",
            );
            query.push_values(chunk, |mut row, (id, at)| {
                row.push_bind(*id).push_bind(*at);
            });
            query.push(
                ") as v where participants.id = v.column1 and participants.last_seen_at \
                 < v.column2",
            );
            let mut tx = self.begin_write().await?;
            query.build().persistent(false).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    async fn insert_activity(&self, a: &Activity) -> Result<Activity, StoreError> {
        let mut tx = self.begin_write().await?;
        let position: i32 = sqlx::query_scalar::<Db, i32>(
            "select coalesce(max(position), 0) + 1 from activities where session_id = $1",
        )
        .bind(a.session_id)
        .fetch_one(&mut *tx)
        .await?;
        Self::insert_activity_row(&mut tx, a, position).await?;
        tx.commit().await?;
        let mut stored = a.clone();
        stored.position = position;
        Ok(stored)
    }

    async fn activity(&self, id: ActivityId) -> Result<Option<Activity>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ACTIVITY_COLUMNS} from activities where id = $1"
        ));
        let row: Option<ActivityRow> = sqlx::query_as::<Db, ActivityRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ActivityRow::into_activity).transpose()
    }

    async fn activities_of(&self, session: SessionId) -> Result<Vec<Activity>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ACTIVITY_COLUMNS} from activities where session_id = $1 order by position, \
             created_at"
        ));
        let rows: Vec<ActivityRow> = sqlx::query_as::<Db, ActivityRow>(sql)
            .bind(session)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(ActivityRow::into_activity).collect()
    }

    async fn active_activities(&self) -> Result<Vec<Activity>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {ACTIVITY_COLUMNS} from activities where state = 'active'"
        ));
        let rows: Vec<ActivityRow> = sqlx::query_as::<Db, ActivityRow>(sql)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(ActivityRow::into_activity).collect()
    }

    async fn update_activity(&self, a: &Activity) -> Result<bool, StoreError> {
        let done = self.write_one(sqlx::query::<Db>(
            "update activities set title = $2, config = $3, kind_state = $4, results_visibility \
             = $5, \
             results_revealed = $6, time_limit_seconds = $7, updated_at = $8 where id = $1",
        )
        .bind(a.id)
        .bind(&a.title)
        .bind(a.config.to_string())
        .bind(a.kind_state.to_string())
        .bind(a.results_visibility.as_str())
        .bind(a.results_revealed)
        .bind(a.time_limit_seconds.map(as_i32))
        .bind(a.updated_at))
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_activity_run(
        &self,
        a: &Activity,
        previous: &Activity,
    ) -> Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query::<Db>(
                    "update activities set kind_state = $2, results_revealed = $3, round = $4, \
             activated_at = $5, deadline_at = $6, updated_at = $7 \
             where id = $1 and state = $8 and round = $9 and kind_state = $10 \
             and results_revealed = $11 and deadline_at is not distinct from $12",
                )
                .bind(a.id)
                .bind(a.kind_state.to_string())
                .bind(a.results_revealed)
                .bind(a.round)
                .bind(a.activated_at)
                .bind(a.deadline_at)
                .bind(a.updated_at)
                .bind(previous.state.as_str())
                .bind(previous.round)
                .bind(previous.kind_state.to_string())
                .bind(previous.results_revealed)
                .bind(previous.deadline_at),
            )
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_activity_state(
        &self,
        a: &Activity,
        from: ActivityState,
    ) -> Result<bool, StoreError> {
        let done = self.write_one(sqlx::query::<Db>(
            "update activities set state = $2, round = $3, results_revealed = $4, kind_state = $5, \
             activated_at = $6, deadline_at = $7, closed_at = $8, updated_at = $9 \
             where id = $1 and state = $10",
        )
        .bind(a.id)
        .bind(a.state.as_str())
        .bind(a.round)
        .bind(a.results_revealed)
        .bind(a.kind_state.to_string())
        .bind(a.activated_at)
        .bind(a.deadline_at)
        .bind(a.closed_at)
        .bind(a.updated_at)
        .bind(from.as_str()))
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_activity(&self, id: ActivityId) -> Result<bool, StoreError> {
        let done = self
            .write_one(sqlx::query::<Db>("delete from activities where id = $1").bind(id))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn reorder_activities(
        &self,
        session: SessionId,
        order: &[ActivityId],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (index, id) in order.iter().enumerate() {
            sqlx::query::<Db>(
                "update activities set position = $3 where id = $1 and session_id = $2",
            )
            .bind(id)
            .bind(session)
            .bind(i32::try_from(index + 1).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn write_responses(
        &self,
        batch: &[ResponseWrite],
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(outcomes) = self.write_answer_batch(batch, false).await? {
            return Ok(outcomes);
        }
        // A request id was stored before (a client sent an answer again): once more,
        // finding out which.
        metrics::counter!("response_batches_redone_total").increment(1);
        self.write_answer_batch(batch, true).await?.ok_or_else(|| {
            StoreError::Internal("an answer batch asked to be run again twice".into())
        })
    }

    async fn add_reactions(
        &self,
        session: SessionId,
        minute: DateTime<Utc>,
        counts: &[(&str, i64)],
    ) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "insert into reaction_counts (session_id, minute, emoji, count) ",
        );
        query.push_values(counts, |mut row, (emoji, count)| {
            row.push_bind(session)
                .push_bind(minute)
                .push_bind(*emoji)
                .push_bind(*count);
        });
        query.push(
            " on conflict (session_id, minute, emoji) do update set count = \
             reaction_counts.count + excluded.count",
        );
        let mut tx = self.begin_write().await?;
        query.build().persistent(false).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reaction_sums(
        &self,
        session: SessionId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as::<Db, (String, i64)>(
            "select emoji, cast(sum(count) as bigint) from reaction_counts \
             where session_id = $1 and minute >= $2 group by emoji",
        )
        .bind(session)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn reaction_minutes(
        &self,
        session: SessionId,
    ) -> Result<Vec<(DateTime<Utc>, String, i64)>, StoreError> {
        let rows: Vec<(DateTime<Utc>, String, i64)> =
            sqlx::query_as::<Db, (DateTime<Utc>, String, i64)>(
                "select minute, emoji, count from reaction_counts where session_id = $1 order by \
             minute, emoji",
            )
            .bind(session)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows)
    }

    async fn slot_filled(
        &self,
        activity: ActivityId,
        round: i32,
        slot: &str,
        participant: Option<ParticipantId>,
    ) -> Result<bool, StoreError> {
        let found: Option<i32> = sqlx::query_scalar::<Db, i32>(
            "select 1 from responses where activity_id = $1 and round = $2 and slot = $3 \
             and ($4 is null or participant_id = $4) limit 1",
        )
        .bind(activity)
        .bind(round)
        .bind(slot)
        .bind(participant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn open_step(
        &self,
        session: SessionId,
        participant: ParticipantId,
        activity: ActivityId,
        round: i32,
        step: i32,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        // A step opened again on the activity the participant is on (a phone showing how
        // an answer did) changes nothing: it is read, not queued behind the writer.
        let known: Option<(DateTime<Utc>, Option<ActivityId>)> =
            sqlx::query_as::<Db, (DateTime<Utc>, Option<ActivityId>)>(
                "select s.seen_at, g.activity_id from paced_steps s \
                 left join paced_progress g on g.participant_id = s.participant_id \
                 where s.participant_id = $1 and s.activity_id = $2 and s.round = $3 \
                 and s.step = $4",
            )
            .bind(participant)
            .bind(activity)
            .bind(round)
            .bind(step)
            .fetch_optional(&self.pool)
            .await?;
        if let Some((seen, Some(current))) = known
            && current == activity
        {
            return Ok(seen);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query::<Db>(
            "insert into paced_steps (participant_id, activity_id, round, step, seen_at) \
             values ($1, $2, $3, $4, $5) \
             on conflict (participant_id, activity_id, round, step) do nothing",
        )
        .bind(participant)
        .bind(activity)
        .bind(round)
        .bind(step)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query::<Db>(
            "insert into paced_progress (participant_id, session_id, activity_id, updated_at) \
             values ($1, $2, $3, $4) on conflict (participant_id) do update set \
             activity_id = excluded.activity_id, updated_at = excluded.updated_at",
        )
        .bind(participant)
        .bind(session)
        .bind(activity)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let seen: DateTime<Utc> = sqlx::query_scalar::<Db, DateTime<Utc>>(
            "select seen_at from paced_steps where participant_id = $1 and activity_id = $2 \
             and round = $3 and step = $4",
        )
        .bind(participant)
        .bind(activity)
        .bind(round)
        .bind(step)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seen)
    }

    async fn steps_seen(
        &self,
        participant: ParticipantId,
        activity: ActivityId,
        round: i32,
    ) -> Result<Vec<(i32, DateTime<Utc>)>, StoreError> {
        Ok(sqlx::query_as::<Db, (i32, DateTime<Utc>)>(
            "select step, seen_at from paced_steps where participant_id = $1 and \
             activity_id = $2 and round = $3 order by step",
        )
        .bind(participant)
        .bind(activity)
        .bind(round)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn finish_course(
        &self,
        session: SessionId,
        participant: ParticipantId,
        at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let mut tx = self.begin_write().await?;
        let first: DateTime<Utc> = sqlx::query_scalar::<Db, DateTime<Utc>>(
            "insert into paced_progress (participant_id, session_id, finished_at, \
             updated_at) values ($1, $2, $3, $3) on conflict (participant_id) do update \
             set finished_at = coalesce(paced_progress.finished_at, excluded.finished_at), \
             updated_at = excluded.updated_at returning finished_at",
        )
        .bind(participant)
        .bind(session)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(first)
    }

    async fn paced_position(
        &self,
        participant: ParticipantId,
    ) -> Result<PacedPosition, StoreError> {
        let row = sqlx::query_as::<Db, (Option<ActivityId>, Option<DateTime<Utc>>)>(
            "select activity_id, finished_at from paced_progress where participant_id = $1",
        )
        .bind(participant)
        .fetch_optional(&self.pool)
        .await?;
        let opened = sqlx::query_as::<Db, (ActivityId, i32, i32)>(
            "select activity_id, round, step from paced_steps where participant_id = $1",
        )
        .bind(participant)
        .fetch_all(&self.pool)
        .await?;
        let (activity, finished_at) = row.unwrap_or_default();
        Ok(PacedPosition {
            activity,
            finished_at,
            opened,
        })
    }

    async fn paced_progress(&self, session: SessionId) -> Result<PacedProgress, StoreError> {
        // One row per (activity, finished or not): where the unfinished are, and how many
        // finished.
        let rows = sqlx::query_as::<Db, (Option<ActivityId>, bool, i64)>(
            "select case when g.finished_at is null then g.activity_id end, \
             g.finished_at is not null, count(*) from paced_progress g \
             join participants p on p.id = g.participant_id \
             where g.session_id = $1 and p.status = 'active' group by 1, 2",
        )
        .bind(session)
        .fetch_all(&self.pool)
        .await?;
        let mut progress = PacedProgress::default();
        for (activity, finished, count) in rows {
            match (finished, activity) {
                (true, _) => progress.finished += count,
                (false, Some(activity)) => progress.on.push((activity, count)),
                (false, None) => {}
            }
        }
        Ok(progress)
    }

    async fn round_answers(
        &self,
        activity: ActivityId,
        round: i32,
    ) -> Result<Vec<(StoredResponse, String, Option<u16>)>, StoreError> {
        let rows: Vec<RoundAnswerRow> = sqlx::query_as::<Db, RoundAnswerRow>(
            "select r.id, r.activity_id, r.participant_id, r.round, r.slot, r.answer, \
             r.created_at, r.updated_at, r.answer_ms, p.nickname, p.team \
             from responses r join participants p on p.id = r.participant_id \
             where r.activity_id = $1 and r.round = $2 order by r.created_at, r.id",
        )
        .bind(activity)
        .bind(round)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let team = row.team.and_then(|t| u16::try_from(t).ok());
                (StoredResponse::from(row.response), row.nickname, team)
            })
            .collect())
    }

    async fn responses_of_participant(
        &self,
        participant: ParticipantId,
    ) -> Result<Vec<StoredResponse>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {RESPONSE_COLUMNS} from responses where participant_id = $1 order by \
             created_at, id"
        ));
        let rows: Vec<ResponseRow> = sqlx::query_as::<Db, ResponseRow>(sql)
            .bind(participant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(StoredResponse::from).collect())
    }

    async fn responses_of_session(
        &self,
        session: SessionId,
    ) -> Result<Vec<StoredResponse>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {RESPONSE_COLUMNS} from responses where session_id = $1 order by \
             activity_id, round, created_at, id"
        ));
        let rows: Vec<ResponseRow> = sqlx::query_as::<Db, ResponseRow>(sql)
            .bind(session)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(StoredResponse::from).collect())
    }

    async fn session_engagement(
        &self,
        owner: Option<OrganizerId>,
        limit: i64,
    ) -> Result<Vec<SessionEngagement>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS}, \
               (select count(*) from participants p where p.session_id = s.id) as participants, \
               (select count(distinct r.participant_id) from responses r \
                 where r.session_id = s.id) as respondents, \
               (select count(*) from responses r where r.session_id = s.id) as answers, \
               (select count(*) from activities a \
                 where a.session_id = s.id and a.activated_at is not null) as activities_run, \
               (select cast(coalesce(sum(c.count), 0) as bigint) from reaction_counts c \
                 where c.session_id = s.id) as reactions \
             from sessions s where ($1 is null or s.organizer_id = $1) \
             order by coalesce(s.started_at, s.created_at) desc, s.id desc limit $2"
        ));
        let rows: Vec<EngagementRow> = sqlx::query_as::<Db, EngagementRow>(sql)
            .bind(owner)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(EngagementRow::into_engagement)
            .collect()
    }

    async fn sessions_to_anonymize(
        &self,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<SessionId>, StoreError> {
        Ok(sqlx::query_scalar::<Db, SessionId>(
            "select id from sessions where status = 'completed' and anonymized_at is null and \
             completed_at < $1 \
             order by completed_at limit $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn anonymize_session(
        &self,
        session: SessionId,
        nicknames: &[(ParticipantId, String, String)],
        answers: &[(ResponseId, String)],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query::<Db>(
            "update sessions set anonymized_at = $2 where id = $1 and anonymized_at is null",
        )
        .bind(session)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for chunk in nicknames.chunks(PRESENCE_CHUNK) {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "update participants set nickname = v.column2, nickname_key = v.column3 from (",
            );
            query.push_values(chunk, |mut row, (id, nickname, key)| {
                row.push_bind(*id).push_bind(nickname).push_bind(key);
            });
            query.push(") as v where participants.id = v.column1 and participants.session_id = ");
            query.push_bind(session);
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        for chunk in answers.chunks(PRESENCE_CHUNK) {
            let mut query =
                sqlx::QueryBuilder::<Db>::new("update responses set answer = v.column2 from (");
            query.push_values(chunk, |mut row, (id, answer)| {
                row.push_bind(*id).push_bind(answer);
            });
            query.push(") as v where responses.id = v.column1 and responses.session_id = ");
            query.push_bind(session);
            query.build().persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn insert_template(
        &self,
        t: &Template,
        first: &NewVersion<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<Db>(
            "insert into templates (id, organizer_id, name, description, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(t.id)
        .bind(t.organizer_id)
        .bind(&t.name)
        .bind(&t.description)
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&mut *tx)
        .await?;
        Self::insert_version_row(&mut tx, first).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_template_version(&self, new: &NewVersion<'_>) -> Result<i32, StoreError> {
        let mut tx = self.begin_write().await?;
        let version = Self::insert_version_row(&mut tx, new).await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn template(&self, id: TemplateId) -> Result<Option<Template>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {TEMPLATE_COLUMNS} from templates t where t.id = $1"
        ));
        let row: Option<TemplateRow> = sqlx::query_as::<Db, TemplateRow>(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Template::from))
    }

    async fn list_templates(
        &self,
        owner: Option<OrganizerId>,
    ) -> Result<Vec<Template>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {TEMPLATE_COLUMNS} from templates t where ($1 is null or t.organizer_id = $1) \
             order by t.updated_at desc, t.id desc"
        ));
        let rows: Vec<TemplateRow> = sqlx::query_as::<Db, TemplateRow>(sql)
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Template::from).collect())
    }

    async fn template_versions(
        &self,
        template: TemplateId,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {VERSION_COLUMNS} from template_versions where template_id = $1 order by \
             version"
        ));
        let rows: Vec<VersionRow> = sqlx::query_as::<Db, VersionRow>(sql)
            .bind(template)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(VersionRow::into_version).collect()
    }

    async fn template_version(
        &self,
        template: TemplateId,
        version: i32,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "select {VERSION_COLUMNS} from template_versions where template_id = $1 and version \
             = $2"
        ));
        let row: Option<VersionRow> = sqlx::query_as::<Db, VersionRow>(sql)
            .bind(template)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.map(VersionRow::into_version).transpose()
    }

    async fn update_template(&self, t: &Template) -> Result<bool, StoreError> {
        let done = self
            .write_one(
                sqlx::query::<Db>(
                    "update templates set name = $2, \
             description = $3, updated_at = $4 where id = $1",
                )
                .bind(t.id)
                .bind(&t.name)
                .bind(&t.description)
                .bind(t.updated_at),
            )
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_template(&self, id: TemplateId) -> Result<bool, StoreError> {
        let done = self
            .write_one(sqlx::query::<Db>("delete from templates where id = $1").bind(id))
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn replayed_request(
        &self,
        participant: ParticipantId,
        client_request_id: &str,
    ) -> Result<Option<(ActivityId, i32, String)>, StoreError> {
        let row: Option<(ActivityId, i32, String)> =
            sqlx::query_as::<Db, (ActivityId, i32, String)>(
                "select activity_id, round, slot from response_requests where participant_id = $1 \
             and client_request_id = $2",
            )
            .bind(participant)
            .bind(client_request_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row)
    }
}
