(* Struct-array outputs as arrays of records; prints the same OUT lines as the Go
   package's TestStructOutputs (tests/bindings compares them).  PYVIRT_GUEST_URI
   selects a guest-info host file. *)
open Pyvirt
open Harness

let () =
  let uri = Option.value (Sys.getenv_opt "PYVIRT_GUEST_URI") ~default:"test:///default" in
  let conn = connect_open ~name:uri () in
  let dom = Connect.domain_lookup_by_name conn
      (if uri = "test:///default" then "test" else "g1") in
  let code f = match f () with _ -> None | exception Error e -> Some e.code in
  test "memory_stats" (fun () ->
      Array.iter (fun s -> Printf.printf "OUT memstat %d %d\n" s.tag s.val_)
        (Domain.memory_stats dom domain_memory_stat_nr));
  test "get_disk_errors" (fun () ->
      Array.iter (fun e -> Printf.printf "OUT diskerror %s %d\n" e.disk e.error_)
        (Domain.get_disk_errors dom 8));
  test "get_fs_info" (fun () ->
      match Domain.get_fs_info dom with
      | fs -> Array.iter (fun f ->
          Printf.printf "OUT fs %s %s %s [%s]\n" f.mountpoint f.name f.fstype
            (String.concat " " (Array.to_list f.devAlias))) fs
      | exception Error e -> Printf.printf "OUT fs error %d\n" e.code);
  test "get_security_label_list" (fun () ->
      match code (fun () -> Domain.get_security_label_list dom) with
      | Some c -> Printf.printf "OUT seclabels error %d\n" c
      | None -> ());
  test "get_dhcp_leases" (fun () ->
      let net = Connect.network_lookup_by_name conn "default" in
      match Network.get_dhcp_leases net "" with
      | ls -> Array.iter (fun l ->
          Printf.printf "OUT lease %s %d %s %s %d %s\n" l.iface l.type_ l.mac l.ipaddr l.prefix
            l.hostname) ls
      | exception Error e -> Printf.printf "OUT leases error %d\n" e.code);
  finish ()
