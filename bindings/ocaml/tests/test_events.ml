(* Event callbacks with the default event loop. *)
open Pyvirt
open Harness

let xml = "<domain type='test'><name>evt</name><memory>65536</memory><vcpu>1</vcpu>"
          ^ "<os><type>hvm</type></os></domain>"

let run_until cond =
  let deadline = Unix.gettimeofday () +. 10. in
  while not (cond ()) && Unix.gettimeofday () < deadline do event_run_default_impl () done

let () =
  event_register_default_impl ();
  let conn = connect_open ~name:"test:///default" () in
  test "lifecycle events" (fun () ->
      let seen = ref [] in
      let id = Connect.domain_event_register_any conn None domain_event_id_lifecycle
          (Domain_event (fun _ dom ev _ -> seen := (Domain.get_name dom, ev) :: !seen)) in
      let dom = Connect.domain_define_xml conn xml in
      Domain.create dom;
      Domain.destroy dom;
      Domain.undefine dom;
      run_until (fun () -> List.length !seen >= 4);
      Connect.domain_event_deregister_any conn id;
      check_eq "events" (fun l -> String.concat "," (List.map (fun (n, e) -> n ^ string_of_int e) l))
        ["evt", domain_event_defined; "evt", domain_event_started; "evt", domain_event_stopped;
         "evt", domain_event_undefined] (List.rev !seen));
  test "a callback that does not fit the event ID" (fun () ->
      check_eq "invalid arg" string_of_int err_invalid_arg (error_code (fun () ->
          Connect.domain_event_register_any conn None domain_event_id_lifecycle
            (Domain_event_generic (fun _ _ -> ())))));
  test "timeouts" (fun () ->
      let fired = ref 0 in
      let id = event_add_timeout 1 (fun _ -> incr fired) in
      run_until (fun () -> !fired >= 2);
      event_remove_timeout id;
      check "fired" (!fired >= 2));
  test "an exception in a callback does not escape" (fun () ->
      let fired = ref false in
      let id = event_add_timeout 1 (fun _ -> fired := true; failwith "boom") in
      run_until (fun () -> !fired);
      event_remove_timeout id;
      check "fired" !fired);
  finish ()
