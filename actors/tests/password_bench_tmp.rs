use std::time::Instant;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use zeroize::Zeroize;
use warden_actors::password::{PasswordParams, PasswordPool};

#[test]
fn bench() {
    let params = Params::new(19456, 2, 1, Some(32)).unwrap();
    let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = [7u8; 16];
    let mut out = [0u8; 32];
    let n = 20;
    let t = Instant::now();
    for _ in 0..n { a.hash_password_into(b"password123", &salt, &mut out).unwrap(); }
    eprintln!("fresh alloc: {:?}", t.elapsed() / n);
    let mut mem = vec![Block::new(); params.block_count()];
    let t = Instant::now();
    for _ in 0..n { a.hash_password_into_with_memory(b"password123", &salt, &mut out, &mut mem[..]).unwrap(); }
    eprintln!("reuse: {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n { a.hash_password_into_with_memory(b"password123", &salt, &mut out, &mut mem[..]).unwrap(); for b in mem.iter_mut() { b.zeroize(); } }
    eprintln!("reuse+zeroize: {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n { for b in mem.iter_mut() { b.zeroize(); } }
    eprintln!("zeroize only: {:?}", t.elapsed() / n);
    let pool = PasswordPool::start(PasswordParams::default(), 1, 4).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let phc = pool.hash("password123").await.unwrap();
        let t = Instant::now();
        for _ in 0..n { let _ = pool.verify("password123", &phc).await.unwrap(); }
        eprintln!("pool verify: {:?}", t.elapsed() / n);
    });
}
