# A headerless raw binary (guest/hello.S) runs at RAM base + 0x80000, prints through the UART
# and powers off through PSCI.
raw_hello() {
	lk_run 60 run -k "$LKVM_PAYLOADS/hello.bin"
	expect_rc 0
	expect_console '^hello from a raw binary$'
}

run_test raw-hello raw_hello
