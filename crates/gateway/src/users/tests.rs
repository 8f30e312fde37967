use std::sync::atomic::Ordering;
use std::time::Duration;

use amanah_crypto::password::PolicyViolation;
use amanah_crypto::totp::{Totp, TotpSecret};
use amanah_store::SqliteStore;

use super::*;
use crate::config::{Lockout, PasswordRules, Users};

const T0: i64 = 1_700_000_010;
const PASSWORD: &str = "correct horse 7 battery";
const SERVER_SECRET: &str = "server-secret-for-user-tests-0123456789";

fn users_config() -> Users {
    Users {
        mfa_required_roles: vec!["admin".into()],
        setup_token_ttl: Duration::from_secs(3_600),
        session_idle_timeout: Duration::from_secs(600),
        session_absolute_timeout: Duration::from_secs(3_600),
        lockout: Lockout {
            threshold: 3,
            base: Duration::from_secs(60),
            max: Duration::from_secs(200),
        },
        password: PasswordRules {
            min_chars: 12,
            require_letter: true,
            require_digit: true,
            require_symbol: true,
            reject_common: true,
        },
    }
}

struct Fixture {
    svc: Arc<UserService>,
    access: Arc<AccessControl>,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn fixture_with(users: Users) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("amanah.db")).unwrap());
    let access = Arc::new(AccessControl::with_roles(
        Arc::clone(&store),
        Vec::new(),
        Vec::new(),
    ));
    let svc = UserService::new(
        Arc::clone(&store),
        Arc::clone(&access),
        &SecretString::new(SERVER_SECRET.into()),
        &users,
        Params::insecure_for_tests(),
    );
    Fixture {
        svc: Arc::new(svc),
        access,
        store,
        _dir: dir,
    }
}

fn fixture() -> Fixture {
    fixture_with(users_config())
}

fn pw(s: &str) -> SecretString {
    SecretString::new(s.into())
}

fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

fn attempt(username: &str, password: &str) -> LoginAttempt {
    LoginAttempt {
        username: username.into(),
        password: pw(password),
        second_factor: None,
    }
}

fn with_totp(username: &str, code: String) -> LoginAttempt {
    LoginAttempt {
        second_factor: Some(SecondFactor::Totp(SecretString::new(code))),
        ..attempt(username, PASSWORD)
    }
}

fn with_recovery(username: &str, code: &str) -> LoginAttempt {
    LoginAttempt {
        second_factor: Some(SecondFactor::Recovery(pw(code))),
        ..attempt(username, PASSWORD)
    }
}

impl Fixture {
    /// Creates a user and sets `PASSWORD` through the setup token.
    async fn active(&self, name: &str, r: &[&str]) {
        let (_, token) = self.svc.create(name, &roles(r), T0).await.unwrap();
        self.svc
            .complete_setup(name, token.expose(), &pw(PASSWORD), T0)
            .await
            .unwrap();
    }

    async fn record(&self, name: &str) -> UserRecord {
        self.store.user_by_name(name).await.unwrap().unwrap()
    }

    fn verifications(&self) -> u64 {
        self.svc.verifications.load(Ordering::Relaxed)
    }

    /// Enrolls TOTP for `name` at `now`; returns the secret and the
    /// recovery codes.
    async fn enroll(&self, name: &str, now: i64) -> (TotpSecret, RecoveryCodes) {
        let e = self.svc.begin_totp(name, &pw(PASSWORD), now).await.unwrap();
        let secret = TotpSecret::from_base32(e.secret_base32.expose()).unwrap();
        let code = Totp::default().code_at(&secret, now);
        let codes = self
            .svc
            .confirm_totp(name, &pw(PASSWORD), &code, now)
            .await
            .unwrap();
        (secret, codes)
    }
}

fn denied(r: Result<Session, LoginError>) -> DenyReason {
    match r {
        Err(LoginError::Denied(reason)) => reason,
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[test]
fn usernames_are_normalized() {
    assert_eq!(normalize_username("Alice").as_deref(), Some("alice"));
    assert_eq!(
        normalize_username("ops.team_1@example-corp.com").as_deref(),
        Some("ops.team_1@example-corp.com")
    );
    for bad in ["", "a b", "a/b", "ä", "x:y", &"a".repeat(65)] {
        assert_eq!(normalize_username(bad), None, "{bad:?}");
    }
    assert!(normalize_username(&"a".repeat(64)).is_some());
}

#[test]
fn lock_period_doubles_up_to_the_cap() {
    let l = users_config().lockout;
    assert_eq!(lock_period(&l, 0), 60);
    assert_eq!(lock_period(&l, 1), 120);
    assert_eq!(lock_period(&l, 2), 200);
    assert_eq!(lock_period(&l, 1_000), 200);
    assert_eq!(lock_period(&l, -5), 60);
}

#[tokio::test]
async fn setup_token_is_single_use_and_expires() {
    let f = fixture();
    let (info, token) = f
        .svc
        .create("Alice", &roles(&["viewer"]), T0)
        .await
        .unwrap();
    assert_eq!(info.username, "alice");
    assert_eq!(info.status, UserStatus::PendingSetup);
    assert!(token.expose().starts_with(SETUP_TOKEN_PREFIX));
    // No password exists yet: nothing logs in.
    assert_eq!(
        denied(f.svc.login(attempt("alice", ""), T0).await),
        DenyReason::PendingSetup
    );

    let wrong = new_setup_token();
    assert!(matches!(
        f.svc
            .complete_setup("alice", wrong.expose(), &pw(PASSWORD), T0)
            .await,
        Err(UserError::InvalidSetupToken)
    ));
    // A weak password is refused with every reason and leaves the token usable.
    match f
        .svc
        .complete_setup("alice", token.expose(), &pw("short"), T0)
        .await
    {
        Err(UserError::WeakPassword(v)) => {
            assert!(v.contains(&PolicyViolation::TooShort { min: 12 }), "{v:?}");
            assert!(v.contains(&PolicyViolation::NoDigit), "{v:?}");
        }
        other => panic!("{other:?}"),
    }
    match f
        .svc
        .complete_setup("alice", token.expose(), &pw("Alice rules 2024!"), T0)
        .await
    {
        Err(UserError::WeakPassword(v)) => assert_eq!(v, vec![PolicyViolation::ContainsContext]),
        other => panic!("{other:?}"),
    }
    f.svc
        .complete_setup("ALICE", token.expose(), &pw(PASSWORD), T0 + 1)
        .await
        .unwrap();
    assert!(matches!(
        f.svc
            .complete_setup(
                "alice",
                token.expose(),
                &pw("another good 1 phrase"),
                T0 + 2
            )
            .await,
        Err(UserError::InvalidSetupToken)
    ));
    let rec = f.record("alice").await;
    assert!(rec.setup_tag.is_none() && rec.setup_expires_at.is_none());
    assert!(rec
        .password_hash
        .as_deref()
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(
        f.svc.get("alice", T0).await.unwrap().status,
        UserStatus::Active
    );
    f.svc
        .login(attempt("Alice", PASSWORD), T0 + 3)
        .await
        .unwrap();

    // Expiry: valid until setup_token_ttl, not at it.
    let (_, late) = f.svc.create("bob", &roles(&["viewer"]), T0).await.unwrap();
    assert!(matches!(
        f.svc
            .complete_setup("bob", late.expose(), &pw(PASSWORD), T0 + 3_600)
            .await,
        Err(UserError::InvalidSetupToken)
    ));
    // Another user's token does not work either.
    let (_, carol) = f
        .svc
        .create("carol", &roles(&["viewer"]), T0)
        .await
        .unwrap();
    assert!(matches!(
        f.svc
            .complete_setup("bob", carol.expose(), &pw(PASSWORD), T0)
            .await,
        Err(UserError::InvalidSetupToken)
    ));
    // Unknown user: the same answer.
    assert!(matches!(
        f.svc
            .complete_setup("nobody", carol.expose(), &pw(PASSWORD), T0)
            .await,
        Err(UserError::InvalidSetupToken)
    ));
}

#[tokio::test]
async fn create_validates() {
    let f = fixture();
    f.svc
        .create("alice", &roles(&["viewer"]), T0)
        .await
        .unwrap();
    assert!(matches!(
        f.svc.create("ALICE", &roles(&["viewer"]), T0).await,
        Err(UserError::UsernameTaken)
    ));
    assert!(matches!(
        f.svc.create("bad name", &roles(&["viewer"]), T0).await,
        Err(UserError::InvalidUsername)
    ));
    assert!(matches!(
        f.svc.create("bob", &[], T0).await,
        Err(UserError::NoRole)
    ));
    assert!(matches!(
        f.svc.create("bob", &roles(&["Bad Role"]), T0).await,
        Err(UserError::InvalidRole(r)) if r == "Bad Role"
    ));
    let listed = f.svc.list(T0).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].username, "alice");
}

#[tokio::test]
async fn every_denial_costs_one_verification_and_looks_the_same() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    f.active("dave", &["viewer"]).await;
    f.svc.disable("dave", T0).await.unwrap();
    f.svc
        .create("pending", &roles(&["viewer"]), T0)
        .await
        .unwrap();
    f.active("locked", &["viewer"]).await;
    f.svc.lock("locked", T0 + 1_000, T0).await.unwrap();

    let cases = [
        (attempt("nobody", PASSWORD), DenyReason::UnknownUser),
        (attempt("../etc/passwd", PASSWORD), DenyReason::UnknownUser),
        (
            attempt("alice", "wrong password 1!"),
            DenyReason::WrongPassword { locked_until: None },
        ),
        (attempt("dave", PASSWORD), DenyReason::Disabled),
        (attempt("pending", PASSWORD), DenyReason::PendingSetup),
        (
            attempt("locked", PASSWORD),
            DenyReason::Locked { until: T0 + 1_000 },
        ),
    ];
    let mut public = Vec::new();
    for (a, reason) in cases {
        let before = f.verifications();
        let err = f.svc.login(a, T0).await.unwrap_err();
        assert_eq!(f.verifications(), before + 1, "{reason:?}");
        assert!(
            matches!(err, LoginError::Denied(r) if r == reason),
            "{err:?}"
        );
        public.push(err.to_string());
    }
    assert!(
        public.iter().all(|p| p == "invalid credentials"),
        "{public:?}"
    );

    let before = f.verifications();
    f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    assert_eq!(f.verifications(), before + 1);
}

#[tokio::test]
async fn lockout_after_threshold_grows_and_unlocks() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let wrong = || attempt("alice", "not the password 9!");

    // A success resets the count.
    for _ in 0..2 {
        denied(f.svc.login(wrong(), T0).await);
    }
    f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    assert_eq!(f.record("alice").await.failed_logins, 0);

    for _ in 0..2 {
        assert_eq!(
            denied(f.svc.login(wrong(), T0).await),
            DenyReason::WrongPassword { locked_until: None }
        );
    }
    assert_eq!(
        denied(f.svc.login(wrong(), T0).await),
        DenyReason::WrongPassword {
            locked_until: Some(T0 + 60)
        }
    );
    let rec = f.record("alice").await;
    assert_eq!(
        (rec.failed_logins, rec.lockouts, rec.locked_until),
        (0, 1, Some(T0 + 60))
    );
    assert_eq!(
        f.svc.get("alice", T0).await.unwrap().status,
        UserStatus::Locked
    );

    // While locked, even the right password is refused, and nothing counts
    // or extends the lock.
    assert_eq!(
        denied(f.svc.login(attempt("alice", PASSWORD), T0 + 59).await),
        DenyReason::Locked { until: T0 + 60 }
    );
    for _ in 0..5 {
        denied(f.svc.login(wrong(), T0 + 30).await);
    }
    assert_eq!(f.record("alice").await, rec);

    // The lock ends on time; the next one is twice as long, then capped.
    f.svc
        .login(attempt("alice", PASSWORD), T0 + 60)
        .await
        .unwrap();
    let t1 = T0 + 100;
    for _ in 0..3 {
        denied(f.svc.login(wrong(), t1).await);
    }
    assert_eq!(f.record("alice").await.locked_until, Some(t1 + 120));
    let t2 = t1 + 120;
    for _ in 0..3 {
        denied(f.svc.login(wrong(), t2).await);
    }
    let rec = f.record("alice").await;
    assert_eq!((rec.locked_until, rec.lockouts), (Some(t2 + 200), 3));

    // An administrator lifts it; the lock count stays.
    f.svc.unlock("alice", t2 + 1).await.unwrap();
    f.svc
        .login(attempt("alice", PASSWORD), t2 + 1)
        .await
        .unwrap();
    let rec = f.record("alice").await;
    assert_eq!((rec.locked_until, rec.lockouts), (None, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_are_all_counted() {
    let mut users = users_config();
    users.lockout.threshold = 6;
    let f = fixture_with(users);
    f.active("alice", &["viewer"]).await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let svc = Arc::clone(&f.svc);
            tokio::spawn(async move {
                svc.login(attempt("alice", "not the password 9!"), T0)
                    .await
                    .unwrap_err()
            })
        })
        .collect();
    let mut locked_by = 0;
    for t in tasks {
        match t.await.unwrap() {
            LoginError::Denied(DenyReason::WrongPassword { locked_until }) => {
                locked_by += usize::from(locked_until.is_some());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(locked_by, 1);
    let rec = f.record("alice").await;
    assert_eq!(rec.locked_until, Some(T0 + 60));
    assert_eq!((rec.lockouts, rec.failed_logins), (1, 0));

    // Twice the threshold at once: one lock, not two.
    f.svc.unlock("alice", T0).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let svc = Arc::clone(&f.svc);
            tokio::spawn(async move {
                let _ = svc.login(attempt("alice", "not the password 9!"), T0).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let rec = f.record("alice").await;
    assert_eq!(rec.lockouts, 2);
    assert_eq!(rec.locked_until, Some(T0 + 120));
}

#[tokio::test]
async fn mfa_enrollment_login_replay_and_recovery() {
    let f = fixture();
    f.active("root", &["admin"]).await;

    // Enrollment is demanded only after a correct password.
    assert!(matches!(
        f.svc.login(attempt("root", PASSWORD), T0).await,
        Err(LoginError::MfaEnrollmentRequired)
    ));
    assert_eq!(
        denied(f.svc.login(attempt("root", "wrong password 1!"), T0).await),
        DenyReason::WrongPassword { locked_until: None }
    );
    assert!(matches!(
        f.svc.begin_totp("root", &pw("wrong password 1!"), T0).await,
        Err(UserError::Denied(DenyReason::WrongPassword { .. }))
    ));

    let e = f.svc.begin_totp("root", &pw(PASSWORD), T0).await.unwrap();
    assert!(e
        .uri
        .expose()
        .starts_with("otpauth://totp/Amanah:root?secret="));
    assert!(e.uri.expose().contains(e.secret_base32.expose()));
    let secret = TotpSecret::from_base32(e.secret_base32.expose()).unwrap();
    let rec = f.record("root").await;
    assert!(rec.totp_sealed.is_some() && !rec.totp_enabled);
    // Sealed, not stored in clear.
    assert!(!rec
        .totp_sealed
        .unwrap()
        .windows(secret.as_bytes().len())
        .any(|w| w == secret.as_bytes()));
    // Pending is not enabled.
    assert!(matches!(
        f.svc.login(attempt("root", PASSWORD), T0).await,
        Err(LoginError::MfaEnrollmentRequired)
    ));
    let totp = Totp::default();
    assert!(matches!(
        f.svc
            .confirm_totp("root", &pw(PASSWORD), "000000", T0)
            .await,
        Err(UserError::InvalidCode)
    ));
    let codes = f
        .svc
        .confirm_totp("root", &pw(PASSWORD), &totp.code_at(&secret, T0), T0)
        .await
        .unwrap();
    assert_eq!(codes.codes().len(), 10);
    assert!(matches!(
        f.svc.begin_totp("root", &pw(PASSWORD), T0).await,
        Err(UserError::MfaAlreadyEnabled)
    ));

    // A code is now required; missing or wrong ones are failures.
    assert!(matches!(
        f.svc.login(attempt("root", PASSWORD), T0 + 30).await,
        Err(LoginError::MfaRequired)
    ));
    assert_eq!(f.record("root").await.failed_logins, 1);
    // The code used to confirm cannot be replayed.
    assert_eq!(
        denied(
            f.svc
                .login(with_totp("root", totp.code_at(&secret, T0)), T0 + 1)
                .await
        ),
        DenyReason::WrongSecondFactor { locked_until: None }
    );
    assert_eq!(f.record("root").await.failed_logins, 2);
    let code = totp.code_at(&secret, T0 + 30);
    f.svc
        .login(with_totp("root", code.clone()), T0 + 30)
        .await
        .unwrap();
    assert_eq!(f.record("root").await.failed_logins, 0);
    // Replay of a code already accepted, in the same step.
    assert_eq!(
        denied(f.svc.login(with_totp("root", code), T0 + 31).await),
        DenyReason::WrongSecondFactor { locked_until: None }
    );
    // Wrong codes count up to the lock.
    denied(
        f.svc
            .login(with_totp("root", "123456".into()), T0 + 32)
            .await,
    );
    assert_eq!(
        denied(
            f.svc
                .login(with_totp("root", "12345".into()), T0 + 33)
                .await
        ),
        DenyReason::WrongSecondFactor {
            locked_until: Some(T0 + 33 + 60)
        }
    );
    f.svc.unlock("root", T0 + 34).await.unwrap();

    // Recovery codes work once each, whatever the case and dashes.
    let first = codes.codes()[0].expose().to_owned();
    f.svc
        .login(with_recovery("root", &first), T0 + 40)
        .await
        .unwrap();
    assert_eq!(
        denied(f.svc.login(with_recovery("root", &first), T0 + 41).await),
        DenyReason::WrongSecondFactor { locked_until: None }
    );
    let second = codes.codes()[1].expose().to_uppercase().replace('-', " ");
    f.svc
        .login(with_recovery("root", &second), T0 + 42)
        .await
        .unwrap();
    assert_eq!(
        f.svc
            .get("root", T0 + 42)
            .await
            .unwrap()
            .recovery_codes_left,
        Some(8)
    );
    let regenerated = f
        .svc
        .regenerate_recovery_codes(
            "root",
            &pw(PASSWORD),
            &totp.code_at(&secret, T0 + 60),
            T0 + 60,
        )
        .await
        .unwrap();
    assert_eq!(regenerated.codes().len(), 10);
    assert_eq!(
        denied(
            f.svc
                .login(with_recovery("root", codes.codes()[2].expose()), T0 + 61)
                .await
        ),
        DenyReason::WrongSecondFactor { locked_until: None }
    );

    // Losing the authenticator: reset, sessions end, enrollment again.
    let s = f
        .svc
        .login(
            with_recovery("root", regenerated.codes()[0].expose()),
            T0 + 62,
        )
        .await
        .unwrap();
    assert!(f
        .svc
        .session(s.token.expose(), T0 + 63)
        .await
        .unwrap()
        .is_some());
    f.svc.reset_mfa("root", T0 + 64).await.unwrap();
    assert!(f
        .svc
        .session(s.token.expose(), T0 + 65)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        f.svc.login(attempt("root", PASSWORD), T0 + 66).await,
        Err(LoginError::MfaEnrollmentRequired)
    ));
    let (secret, _) = f.enroll("root", T0 + 90).await;
    f.svc
        .login(with_totp("root", totp.code_at(&secret, T0 + 120)), T0 + 120)
        .await
        .unwrap();
}

#[tokio::test]
async fn session_idle_and_absolute_timeouts() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let s = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let token = s.token.expose();
    assert!(token.starts_with("ams_"));
    assert_eq!(s.info.expires_at, T0 + 3_600);
    assert_eq!(s.info.idle_expires_at, T0 + 600);
    let tag = f.svc.sessions.tag(token);
    let stored = |f: &Fixture| {
        let store = Arc::clone(&f.store);
        async move { store.session(&tag).await.unwrap().unwrap() }
    };
    // Only the tag is stored.
    assert_eq!(stored(&f).await.tag, tag.to_vec());

    // Touches are throttled to one per 30 s.
    let su = f.svc.session(token, T0 + 10).await.unwrap().unwrap();
    assert_eq!(su.user.username, "alice");
    assert_eq!(stored(&f).await.last_seen_at, T0);
    f.svc.session(token, T0 + 30).await.unwrap().unwrap();
    assert_eq!(stored(&f).await.last_seen_at, T0 + 30);

    // Idle: valid just before last_seen + idle, gone at it.
    assert!(f.svc.session(token, T0 + 629).await.unwrap().is_some());
    assert_eq!(stored(&f).await.last_seen_at, T0 + 629);
    assert!(f.svc.session(token, T0 + 1_229).await.unwrap().is_none());
    // It does not come back.
    assert!(f.svc.session(token, T0 + 1_228).await.unwrap().is_none());

    // Absolute: activity does not extend it.
    let s = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let mut t = T0;
    while t + 500 < T0 + 3_600 {
        t += 500;
        assert!(f.svc.session(s.token.expose(), t).await.unwrap().is_some());
    }
    assert!(f
        .svc
        .session(s.token.expose(), T0 + 3_600)
        .await
        .unwrap()
        .is_none());

    // Garbage and unknown tokens.
    let unknown = seal::session_token();
    for bad in ["", "ams_", "amk_whatever", unknown.expose()] {
        assert!(f.svc.session(bad, T0).await.unwrap().is_none(), "{bad}");
    }
}

#[tokio::test]
async fn sessions_end_with_the_account_state() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let s = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let live = |t| {
        let svc = Arc::clone(&f.svc);
        let token = s.token.expose().to_owned();
        async move { svc.session(&token, t).await.unwrap().is_some() }
    };
    assert!(live(T0).await);
    // Gaining a role that requires MFA, without MFA: the session stops working.
    f.svc
        .set_roles("alice", &roles(&["viewer", "admin"]), T0)
        .await
        .unwrap();
    assert!(!live(T0).await);
    f.svc
        .set_roles("alice", &roles(&["viewer"]), T0)
        .await
        .unwrap();
    assert!(live(T0).await);
    f.svc.disable("alice", T0).await.unwrap();
    assert!(!live(T0).await);
    f.svc.enable("alice", T0).await.unwrap();
    // Disabling revoked the session for good.
    assert!(!live(T0).await);

    // An administrator's lock ends the sessions; automatic locks do not.
    let s1 = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    for _ in 0..3 {
        denied(f.svc.login(attempt("alice", "wrong password 1!"), T0).await);
    }
    assert!(f
        .svc
        .session(s1.token.expose(), T0)
        .await
        .unwrap()
        .is_some());
    f.svc.unlock("alice", T0).await.unwrap();
    f.svc.lock("alice", T0 + 500, T0).await.unwrap();
    assert!(f
        .svc
        .session(s1.token.expose(), T0)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        denied(f.svc.login(attempt("alice", PASSWORD), T0).await),
        DenyReason::Locked { until: T0 + 500 }
    );
}

#[tokio::test]
async fn logout_and_revoke_sessions() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let a = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let b = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let c = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    assert!(f.svc.logout(a.token.expose(), T0).await.unwrap());
    assert!(!f.svc.logout(a.token.expose(), T0).await.unwrap());
    assert!(!f.svc.logout("garbage", T0).await.unwrap());
    assert!(f.svc.session(a.token.expose(), T0).await.unwrap().is_none());
    assert!(f.svc.session(b.token.expose(), T0).await.unwrap().is_some());
    assert_eq!(f.svc.revoke_sessions("ALICE", T0).await.unwrap(), 2);
    assert!(f.svc.session(b.token.expose(), T0).await.unwrap().is_none());
    assert!(f.svc.session(c.token.expose(), T0).await.unwrap().is_none());
    assert!(matches!(
        f.svc.revoke_sessions("nobody", T0).await,
        Err(UserError::NotFound)
    ));
}

#[tokio::test]
async fn csrf_and_cookies() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let a = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let b = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    assert!(f.svc.csrf_matches(a.token.expose(), a.csrf.expose()));
    assert!(!f.svc.csrf_matches(a.token.expose(), b.csrf.expose()));
    assert!(!f.svc.csrf_matches(b.token.expose(), a.csrf.expose()));
    assert!(!f.svc.csrf_matches(a.token.expose(), ""));
    let mut altered = a.csrf.expose().to_owned();
    altered.pop();
    assert!(!f.svc.csrf_matches(a.token.expose(), &altered));
    assert_eq!(a.csrf.expose().len(), 64);
    assert_ne!(a.csrf.expose(), a.token.expose());

    assert_eq!(
        f.svc.cookie(&a, true).expose(),
        format!(
            "amanah_session={}; Path=/admin; HttpOnly; SameSite=Strict; Secure; Max-Age=3600",
            a.token.expose()
        )
    );
    assert_eq!(
        f.svc.cookie(&a, false).expose(),
        format!(
            "amanah_session={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=3600",
            a.token.expose()
        )
    );
    assert_eq!(
        f.svc.clear_cookie(true),
        "amanah_session=; Path=/admin; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
    );
    assert!(!f.svc.clear_cookie(false).contains("Secure"));
}

#[tokio::test]
async fn change_password_ends_every_other_session() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let a = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let b = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let new = "a brand new 2nd phrase";
    assert!(matches!(
        f.svc
            .change_password(a.token.expose(), &pw("wrong password 1!"), &pw(new), T0)
            .await,
        Err(UserError::Denied(DenyReason::WrongPassword { .. }))
    ));
    assert!(matches!(
        f.svc
            .change_password(a.token.expose(), &pw(PASSWORD), &pw("password"), T0)
            .await,
        Err(UserError::WeakPassword(_))
    ));
    assert!(matches!(
        f.svc
            .change_password("ams_nope", &pw(PASSWORD), &pw(new), T0)
            .await,
        Err(UserError::NoSession)
    ));
    let fresh = f
        .svc
        .change_password(a.token.expose(), &pw(PASSWORD), &pw(new), T0 + 1)
        .await
        .unwrap();
    for old in [&a, &b] {
        assert!(f
            .svc
            .session(old.token.expose(), T0 + 2)
            .await
            .unwrap()
            .is_none());
    }
    assert!(f
        .svc
        .session(fresh.token.expose(), T0 + 2)
        .await
        .unwrap()
        .is_some());
    denied(f.svc.login(attempt("alice", PASSWORD), T0 + 3).await);
    f.svc.login(attempt("alice", new), T0 + 3).await.unwrap();
}

#[tokio::test]
async fn reset_password_issues_a_new_setup_token() {
    let f = fixture();
    f.active("alice", &["viewer"]).await;
    let s = f.svc.login(attempt("alice", PASSWORD), T0).await.unwrap();
    let token = f.svc.reset_password("alice", T0).await.unwrap();
    assert!(f.svc.session(s.token.expose(), T0).await.unwrap().is_none());
    assert_eq!(
        denied(f.svc.login(attempt("alice", PASSWORD), T0).await),
        DenyReason::PendingSetup
    );
    assert_eq!(
        f.svc.get("alice", T0).await.unwrap().status,
        UserStatus::PendingSetup
    );
    let new = "a brand new 2nd phrase";
    f.svc
        .complete_setup("alice", token.expose(), &pw(new), T0)
        .await
        .unwrap();
    f.svc.login(attempt("alice", new), T0).await.unwrap();
}

#[tokio::test]
async fn no_secret_in_debug_display_or_serialization() {
    let f = fixture();
    let (info, setup) = f.svc.create("root", &roles(&["admin"]), T0).await.unwrap();
    f.svc
        .complete_setup("root", setup.expose(), &pw(PASSWORD), T0)
        .await
        .unwrap();
    let enrollment = f.svc.begin_totp("root", &pw(PASSWORD), T0).await.unwrap();
    let secret = TotpSecret::from_base32(enrollment.secret_base32.expose()).unwrap();
    let code = Totp::default().code_at(&secret, T0);
    let codes = f
        .svc
        .confirm_totp("root", &pw(PASSWORD), &code, T0)
        .await
        .unwrap();
    let next = Totp::default().code_at(&secret, T0 + 30);
    let login = with_totp("root", next.clone());
    let session = f.svc.login(login.clone(), T0 + 30).await.unwrap();
    let su = f
        .svc
        .session(session.token.expose(), T0 + 31)
        .await
        .unwrap()
        .unwrap();
    let cookie = f.svc.cookie(&session, true);

    let mut shown = vec![
        format!("{info:?}"),
        format!("{setup:?}"),
        format!("{enrollment:?}"),
        format!("{codes:?}"),
        format!("{login:?}"),
        format!("{:?}", with_recovery("root", codes.codes()[0].expose())),
        format!("{session:?}"),
        format!("{su:?}"),
        format!("{cookie:?}"),
        format!("{:?}", f.svc),
        serde_json::to_string(&su).unwrap(),
        serde_json::to_string(&f.svc.list(T0).await.unwrap()).unwrap(),
    ];
    let errors: Vec<Box<dyn std::fmt::Debug>> = vec![
        Box::new(
            f.svc
                .login(attempt("root", "x"), T0 + 40)
                .await
                .unwrap_err(),
        ),
        Box::new(
            f.svc
                .complete_setup("root", setup.expose(), &pw(PASSWORD), T0)
                .await
                .unwrap_err(),
        ),
    ];
    for e in &errors {
        shown.push(format!("{e:?}"));
    }
    shown.push(
        f.svc
            .login(attempt("root", "x"), T0 + 40)
            .await
            .unwrap_err()
            .to_string(),
    );

    let record = f.record("root").await;
    let mut secrets = vec![
        PASSWORD.to_owned(),
        setup.expose().to_owned(),
        enrollment.secret_base32.expose().to_owned(),
        session.token.expose().to_owned(),
        session.csrf.expose().to_owned(),
        SERVER_SECRET.to_owned(),
        record.password_hash.unwrap(),
        random::encode_hex(&record.totp_sealed.unwrap()),
    ];
    secrets.extend(codes.codes().iter().map(|c| c.expose().to_owned()));
    for text in &shown {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{text}");
        }
    }
    // The TOTP codes are short; look for them where they could appear whole.
    assert!(!format!("{login:?}").contains(&next));
}

#[tokio::test]
async fn mfa_requirement_follows_inheritance_grants_and_admin_access() {
    let f = fixture();
    let role = |name: &str, permissions: &[&str], inherits: &[&str]| amanah_store::RoleRecord {
        name: name.into(),
        description: String::new(),
        permissions: roles(permissions),
        inherits: roles(inherits),
        created_at: T0,
        updated_at: T0,
    };
    // Roles are stored before the policy is first read (it is cached).
    f.store
        .put_role(&role("deputy", &[], &["admin"]))
        .await
        .unwrap();
    f.store
        .put_role(&role("superuser", &["*:*"], &[]))
        .await
        .unwrap();
    f.store
        .put_role(&role("console", &["admin:access"], &[]))
        .await
        .unwrap();
    for (name, r) in [
        ("dep", "deputy"),
        ("su", "superuser"),
        ("con", "console"),
        ("view", "viewer"),
        ("granted", "viewer"),
    ] {
        f.active(name, &[r]).await;
    }
    let granted = format!("user:{}", f.record("granted").await.id);
    f.access
        .grant(
            &granted,
            "admin",
            Some(T0 + 100),
            Some(T0 + 200),
            "test",
            T0,
        )
        .await
        .unwrap();

    for name in ["dep", "su", "con"] {
        assert!(
            matches!(
                f.svc.login(attempt(name, PASSWORD), T0).await,
                Err(LoginError::MfaEnrollmentRequired)
            ),
            "{name} holds admin power and must enroll"
        );
    }
    f.svc.login(attempt("view", PASSWORD), T0).await.unwrap();
    // The admin grant is not active yet: a viewer signs in without MFA...
    let session = f.svc.login(attempt("granted", PASSWORD), T0).await.unwrap();
    // ...and once it opens, the session ends and a new login must enroll.
    let t = T0 + 150;
    assert!(f
        .svc
        .session(session.token.expose(), t)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        f.svc.login(attempt("granted", PASSWORD), t).await,
        Err(LoginError::MfaEnrollmentRequired)
    ));
    assert!(f.svc.get("granted", t).await.unwrap().mfa_required);
}
