# --dump-dtb writes the guest's device tree, then the guest boots as usual (as in kvmtool). The DTB
# goes to $LKVM_OUT/lkvm.dtb; tests/check-dtb.sh decompiles and checks it on the build machine (dtc).
dump_dtb() {
	rm -f "$LKVM_OUT/lkvm.dtb"
	lk_run 120 run -k "$LKVM_KERNEL" -i "$LKVM_INITRD" -c 2 -m 256M -p "lkvmdtb=1 -- true" \
		--dump-dtb "$LKVM_OUT/lkvm.dtb"
	expect_rc 0
	[ -s "$LKVM_OUT/lkvm.dtb" ] || fail "no DTB written"
	[ "$(head -c 4 "$LKVM_OUT/lkvm.dtb" | od -An -tx1 | tr -d ' ')" = d00dfeed ] ||
		fail "the file has no FDT magic"
	expect_console 'Booting Linux'
}

dump_dtb_unwritable() {
	lk_run 60 run -k "$LKVM_KERNEL" -c 1 --dump-dtb /nonexistent-dir/x.dtb
	expect_rc 1
	expect_error 'dump-dtb'
}

run_test dump-dtb dump_dtb
run_test dump-dtb-unwritable dump_dtb_unwritable
