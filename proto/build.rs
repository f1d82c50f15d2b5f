// Compiles portico.proto without a system `protoc`: protox parses it in pure Rust.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=portico.proto");
    let fds = protox::compile(["portico.proto"], ["."])?;
    tonic_prost_build::configure()
        // BTreeMap keeps map fields in key order, so the same snapshot always encodes to
        // the same bytes and the content hash is stable.
        .btree_map(".")
        // Shared, not copied, by every stream that pushes one version.
        .bytes(".portico.v1.ConfigPush.snapshot")
        .compile_fds(fds)?;
    Ok(())
}
